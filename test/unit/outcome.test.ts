import { Messages } from '@salesforce/core';
import { expect } from 'chai';
import sinon from 'sinon';
import { interruptible } from '../../src/cli/interrupt.js';
import { finishRun, type EndedStep } from '../../src/cli/outcome.js';

Messages.importMessagesDirectoryFromMetaUrl(import.meta.url);
const create = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.create');
const revoke = Messages.loadMessages('@integration-kit/plugin-integration', 'integration.revoke');

const steps = (...statuses: string[]): EndedStep[] =>
  statuses.map((status, i) => ({ name: `step${i}`, status, ...(status === 'failed' ? { error: 'INSUFFICIENT_ACCESS: no' } : {}) }));

const thrown = (fn: () => unknown): Error & { exitCode?: number; actions?: string[] } => {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
};

describe('finishRun: how every writing command ends after apply', () => {
  let exitCodeBefore: typeof process.exitCode;
  let warnings: string[];
  const warn = (m: string): void => void warnings.push(m);
  beforeEach(() => {
    exitCodeBefore = process.exitCode;
    process.exitCode = undefined;
    warnings = [];
  });
  afterEach(() => {
    process.exitCode = exitCodeBefore;
  });

  it('0: returns the result, warns nothing and leaves the exit code alone', () => {
    const result = { steps: steps('created', 'unchanged') };
    expect(finishRun({ result, exitCode: 0 }, { messages: create, warn })).to.equal(result);
    expect(warnings).to.deep.equal([]);
    expect(process.exitCode).to.equal(undefined);
  });

  it('1: throws the command error naming the failed step and its error, with the command actions', () => {
    const e = thrown(() => finishRun({ result: { steps: steps('created', 'failed', 'pending') }, exitCode: 1 }, { messages: create, warn }));
    expect(e.name).to.equal('StepFailedError');
    expect(e.message).to.equal('Step step1 failed: INSUFFICIENT_ACCESS: no');
    expect(e.actions?.join(' ')).to.match(/run the same command again/i);
    expect(warnings).to.deep.equal([]);
    expect(process.exitCode).to.equal(undefined);
  });

  it('1: a command that words the failure otherwise passes its own error', () => {
    const e = thrown(() =>
      finishRun(
        { result: { steps: steps('failed') }, exitCode: 1 },
        { messages: revoke, warn, stepFailed: (step) => revoke.createError('error.StepFailed', [step?.error ?? '']) }
      )
    );
    expect(e.message).to.equal('Nothing was revoked: INSUFFICIENT_ACCESS: no');
  });

  it('68: warns that a re-run finishes, in the command words, sets exit code 68 and returns the result', () => {
    const result = { steps: steps('created', 'failed', 'pending') };
    expect(finishRun({ result, exitCode: 68 }, { messages: revoke, warn })).to.equal(result);
    expect(warnings).to.deep.equal([revoke.getMessage('info.partial')]);
    expect(process.exitCode).to.equal(68);
  });

  it('an error of the run itself wins over the step error, whatever the exit code', () => {
    const own = Object.assign(new Error('created by another run'), { exitCode: 68 });
    expect(thrown(() => finishRun({ result: { steps: steps('created', 'failed') }, exitCode: 68, error: own }, { messages: create, warn }))).to.equal(own);
    expect(warnings).to.deep.equal([]);
    expect(process.exitCode).to.equal(undefined);
  });
});

describe('interruptible: Ctrl-C during a writing run', () => {
  afterEach(() => sinon.restore());

  it('answers SIGINT with the step table fed by the run and exit 130, and removes its handler when the run ends', async () => {
    const exit = sinon.stub(process, 'exit');
    const before = process.listeners('SIGINT').length;
    let printed = '';
    const value = await interruptible((observer) => {
      observer.onPlan({ steps: [{ id: 'user', subject: 'u@x' }, { id: 'app', subject: 'X_Integration' }] });
      observer.onStepStart('user');
      observer.onJournal({ org: true, outcome: 'done' });
      observer.onStepEnd({ name: 'user', status: 'created' });
      observer.onStepStart('app');
      // The handler is first in line: call it as the signal would.
      const handler = process.listeners('SIGINT')[0] as () => void;
      handler();
      return Promise.resolve('done');
    }, (t) => void (printed += t));
    expect(value).to.equal('done');
    expect(exit.calledWith(130)).to.equal(true);
    expect(printed).to.match(/user\s+created/).and.match(/app\s+interrupted/).and.match(/1 write\(s\) reached the org/);
    expect(process.listeners('SIGINT').length).to.equal(before);
  });

  it('removes its handlers when the run throws, and passes the error on', async () => {
    const before = [process.listeners('SIGINT').length, process.listeners('SIGTERM').length];
    const boom = new Error('boom');
    let caught: unknown;
    await interruptible(() => Promise.reject(boom)).catch((e: unknown) => {
      caught = e;
    });
    expect(caught).to.equal(boom);
    expect([process.listeners('SIGINT').length, process.listeners('SIGTERM').length]).to.deep.equal(before);
  });
});
