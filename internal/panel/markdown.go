package panel

import (
	"html"
	"html/template"
	"net/url"
	"regexp"
	"strings"
)

// Markdown renders the Markdown of a knowledge-base section (what
// rules.LoadPage splits a page into, the same text 'rootwatch explain'
// prints) as HTML: paragraphs, "- " and "1. " lists with their indented
// continuation lines, `code`, **bold** and [links](https://…). Every
// character of the source is escaped; no HTML in it passes through, and a
// link is a link only to http or https.
func Markdown(src string) template.HTML {
	var b strings.Builder
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	var para []string
	list := "" // "ul" or "ol" while a list is open
	var item []string
	flushItem := func() {
		if item != nil {
			b.WriteString("<li>" + inline(strings.Join(item, " ")) + "</li>\n")
			item = nil
		}
	}
	closeList := func() {
		flushItem()
		if list != "" {
			b.WriteString("</" + list + ">\n")
			list = ""
		}
	}
	flushPara := func() {
		if para != nil {
			b.WriteString("<p>" + inline(strings.Join(para, " ")) + "</p>\n")
			para = nil
		}
	}
	for _, line := range lines {
		trimmed := strings.TrimSpace(line)
		kind, text := listItem(trimmed)
		switch {
		case trimmed == "":
			flushPara()
			flushItem()
		case kind != "" && (line == trimmed || list != ""):
			flushPara()
			if list != kind {
				closeList()
				b.WriteString("<" + kind + ">\n")
				list = kind
			}
			flushItem()
			item = []string{text}
		case list != "" && (item != nil && line != trimmed):
			item = append(item, trimmed) // an item's continuation line
		case strings.HasPrefix(trimmed, "#"):
			flushPara()
			closeList()
			level := len(trimmed) - len(strings.TrimLeft(trimmed, "#"))
			tag := "h4"
			if level <= 3 {
				tag = "h3"
			}
			b.WriteString("<" + tag + ">" + inline(strings.TrimSpace(strings.TrimLeft(trimmed, "#"))) + "</" + tag + ">\n")
		default:
			closeList()
			para = append(para, trimmed)
		}
	}
	flushPara()
	closeList()
	return template.HTML(b.String())
}

var orderedItem = regexp.MustCompile(`^\d{1,3}\. `)

// listItem says whether a line starts a list item, and its text.
func listItem(line string) (kind, text string) {
	if strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") {
		return "ul", line[2:]
	}
	if m := orderedItem.FindString(line); m != "" {
		return "ol", line[len(m):]
	}
	return "", ""
}

var linkRE = regexp.MustCompile(`^\[([^\]]+)\]\(([^)\s]+)\)`)

// inline renders code spans, bold and links, escaping everything else.
func inline(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		switch {
		case s[0] == '`':
			if end := strings.IndexByte(s[1:], '`'); end >= 0 {
				b.WriteString("<code>" + html.EscapeString(s[1:1+end]) + "</code>")
				s = s[end+2:]
				continue
			}
		case strings.HasPrefix(s, "**"):
			if end := strings.Index(s[2:], "**"); end > 0 {
				b.WriteString("<strong>" + inline(s[2:2+end]) + "</strong>")
				s = s[end+4:]
				continue
			}
		case s[0] == '[':
			if m := linkRE.FindStringSubmatch(s); m != nil {
				if u, err := url.Parse(m[2]); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
					b.WriteString(`<a href="` + html.EscapeString(u.String()) + `" rel="noopener noreferrer">` + inline(m[1]) + "</a>")
				} else {
					b.WriteString(inline(m[1]))
				}
				s = s[len(m[0]):]
				continue
			}
		}
		// Up to the next character that may start markup.
		n := strings.IndexAny(s[1:], "`*[")
		if n < 0 {
			n = len(s) - 1
		}
		b.WriteString(html.EscapeString(s[:n+1]))
		s = s[n+1:]
	}
	return b.String()
}
