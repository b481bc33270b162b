/*
 * applyPlan without HTTP: record writes go in all-or-none composite requests of at most 25, Ids created in one
 * request feed the next, and a failure leaves earlier steps done, the cause failed and the rest pending.
 */
import { expect } from 'chai';
import { applyPlan, type ApplyHooks } from '../../src/plan/apply.js';
import type { Plan, Step } from '../../src/plan/types.js';
import { ApiCallError, type CompositeResult, type CompositeSubrequest, type Transport } from '../../src/org/transport.js';

type Call = CompositeSubrequest[];

/** A transport that records composite calls and answers from a script. */
const fakeTransport = (answer: (call: Call, n: number) => CompositeResult[]): { transport: Transport; calls: Call[] } => {
  const calls: Call[] = [];
  const transport = {
    composite: (subs: CompositeSubrequest[]): Promise<CompositeResult[]> => {
      calls.push(subs);
      return Promise.resolve(answer(subs, calls.length));
    },
  } as unknown as Transport;
  return { transport, calls };
};

const ok = (call: Call): CompositeResult[] => call.map((s, i) => ({ referenceId: s.referenceId, ok: true, id: `0PSok${i}` }));

const hooks: ApplyHooks = { writeCredentials: () => Promise.resolve(), deployApp: () => Promise.resolve(), verify: () => Promise.resolve() };

const plan = (fieldCount: number): Plan => {
  const steps: Step[] = [
    { id: 'permission-set', action: 'create', subject: 'HubSpot_Integration', changes: [], ops: [{ kind: 'create', sobject: 'PermissionSet', fields: { Name: 'HubSpot_Integration' }, saveAs: 'permissionSet' }] },
    {
      id: 'field-permissions',
      action: 'create',
      subject: 'fields',
      changes: [],
      ops: Array.from({ length: fieldCount }, (_, i) => ({
        kind: 'create' as const,
        sobject: 'FieldPermissions',
        fields: { ParentId: { ref: 'permissionSet' as const }, SobjectType: 'Account', Field: `Account.F${i}__c`, PermissionsRead: true, PermissionsEdit: false },
      })),
    },
    { id: 'permission-set-assignment', action: 'create', subject: 'a', changes: [], ops: [{ kind: 'create', sobject: 'PermissionSetAssignment', fields: { AssigneeId: '005000000000001AAA', PermissionSetId: { ref: 'permissionSet' } } }] },
  ];
  return { steps, warnings: [] };
};

describe('applyPlan', () => {
  it('sends up to 25 writes per all-or-none request and resolves references across requests', async () => {
    const { transport, calls } = fakeTransport(ok);
    const outcome = await applyPlan(plan(30), transport, hooks, {});
    expect(outcome.failed).to.be.false;
    expect(calls.map((c) => c.length)).to.deep.equal([25, 7]);
    expect(calls[0][1].body?.ParentId).to.equal('@{permissionSet.id}');
    expect(calls[1][0].body?.ParentId).to.equal('0PSok0');
    expect(outcome.results.map((r) => r.status)).to.deep.equal(['created', 'created', 'created']);
  });

  it('reports the cause as failed and what the org rolled back as pending', async () => {
    const { transport } = fakeTransport((call, n) =>
      n === 1
        ? ok(call)
        : call.map((s, i) => ({
            referenceId: s.referenceId,
            ok: false,
            error: i === 0 ? new ApiCallError('INVALID_FIELD', 'bad field', 400) : new ApiCallError('PROCESSING_HALTED', 'rolled back', 400),
          }))
    );
    const outcome = await applyPlan(plan(30), transport, hooks, {});
    expect(outcome.failed).to.be.true;
    expect(outcome.results.map((r) => `${r.name}:${r.status}`)).to.deep.equal(['permission-set:created', 'field-permissions:failed', 'permission-set-assignment:pending']);
    expect(outcome.results[1].error).to.match(/INVALID_FIELD: bad field/);
  });
});
