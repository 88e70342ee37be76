SELECT 'event' AS row_kind,
       eventtime AS event_time,
       eventsource AS event_source,
       eventname AS event_name,
       awsregion AS aws_region,
       sourceipaddress AS source_ip,
       useragent AS user_agent,
       errorcode AS error_code,
       errormessage AS error_message,
       requestparameters AS request_parameters,
       responseelements AS response_elements,
       additionaleventdata AS additional_event_data,
       eventid AS event_id,
       eventtype AS event_type,
       recipientaccountid AS recipient_account_id,
       sharedeventid AS shared_event_id,
       useridentity.type AS identity_type,
       useridentity.principalid AS identity_principal_id,
       useridentity.arn AS identity_arn,
       useridentity.accountid AS identity_account_id,
       useridentity.invokedby AS identity_invoked_by,
       useridentity.accesskeyid AS identity_access_key_id,
       useridentity.username AS identity_user_name,
       useridentity.sessioncontext.sessionissuer.arn AS identity_session_issuer_arn,
       CAST(NULL AS varchar) AS identity_source_identity,
       CAST(NULL AS varchar) AS identity_assumed_root,
       CAST(NULL AS varchar) AS events, CAST(NULL AS varchar) AS first_event_time, CAST(NULL AS varchar) AS last_event_time
FROM "security"."cloudtrail_logs_pp"
WHERE "timestamp" >= ?
  AND "timestamp" <= ?
  AND ((lower(useridentity.type) = 'root'
       AND (recipientaccountid IN (?, ?) OR useridentity.accountid IN (?, ?)
            OR useridentity.accountid IS NULL OR useridentity.accountid = ''))
       OR (eventname = 'AssumeRoot' AND lower(eventsource) LIKE 'sts.%')
       OR (eventname IN ('StartPrimaryEmailUpdate', 'AcceptPrimaryEmailUpdate') AND eventsource = 'account.amazonaws.com'))
UNION ALL
SELECT 'coverage',
       CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), recipientaccountid, CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar), CAST(NULL AS varchar),
       CAST(count(*) AS varchar), min(eventtime), max(eventtime)
FROM "security"."cloudtrail_logs_pp"
WHERE "timestamp" >= ?
  AND "timestamp" <= ?
  AND recipientaccountid IN (?, ?)
GROUP BY recipientaccountid
