// Runs cases through @cloud-copilot/iam-simulate, the independent IAM
// evaluator internal/policy is compared with (TestDifferentialIAMSimulate).
//
// Input (stdin): {"cases": [case, ...]}; each case:
//   {"name", "identity": [{"name", "policy"}], "boundary": {"name", "policy"} | null,
//    "scps": [{"target", "policies": [{"name", "policy"}]}],
//    "request": {"principal", "action", "resource", "context": {key: string | [string]}},
//    "validated": bool}
// "validated" runs runSimulation (policies, actions and resource types checked
// against the simulator's AWS data; context keys the action does not take are
// dropped and reported); otherwise runUnsafeSimulation evaluates as given.
//
// Output (stdout): [{"name", "decision": "allow" | "explicit deny" |
// "implicit deny", "error", "ignoredContextKeys"}] in input order.
'use strict';
const { runSimulation, runUnsafeSimulation } = require('@cloud-copilot/iam-simulate');

const decisions = {
  Allowed: 'allow',
  ExplicitlyDenied: 'explicit deny',
  ImplicitlyDenied: 'implicit deny',
};

function simulation(c) {
  const principal = c.request.principal;
  return {
    request: {
      principal,
      action: c.request.action,
      // The resource is taken to be in the principal's account: this
      // package models requests within one account.
      resource: { resource: c.request.resource, accountId: principal.split(':')[4] },
      contextVariables: c.request.context || {},
    },
    identityPolicies: c.identity || [],
    serviceControlPolicies: (c.scps || []).map((t) => ({ orgIdentifier: t.target, policies: t.policies })),
    resourceControlPolicies: [],
    permissionBoundaryPolicies: c.boundary ? [c.boundary] : undefined,
  };
}

async function run(c) {
  try {
    if (!c.validated) {
      return { name: c.name, decision: decisions[runUnsafeSimulation(simulation(c), {})] };
    }
    const r = await runSimulation(simulation(c), {});
    if (r.resultType === 'error') {
      return { name: c.name, error: JSON.stringify(r.errors) };
    }
    const ignored = r.resultType === 'single' ? r.result.ignoredContextKeys || [] : [];
    return { name: c.name, decision: decisions[r.overallResult], ignoredContextKeys: ignored };
  } catch (e) {
    return { name: c.name, error: String(e && e.stack ? e.stack : e) };
  }
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const { cases } = JSON.parse(input);
  const out = [];
  for (const c of cases) out.push(await run(c));
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
