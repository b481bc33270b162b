import { expect } from 'chai';
import { ExitCode, errorCodesSection } from '../../src/cli/exit-codes.js';
import { assertCanPrompt, canPrompt } from '../../src/cli/prompt.js';

describe('exit codes and prompts shared by every command', () => {
  it('keeps the codes pipelines rely on', () => {
    expect(ExitCode).to.deep.include({ Success: 0, Failure: 1, BadInput: 2, Partial: 68, Unreachable: 69 });
  });

  it('documents each code a command names in its ERROR CODES help, with its number', () => {
    const section = errorCodesSection(['Success', 'Partial', 'Unreachable']);
    expect(section?.header).to.equal('ERROR CODES');
    const body = JSON.stringify(section?.body);
    expect(body).to.include('(0)').and.include('(68)').and.include('(69)').and.include('Run the same command again');
    expect(body).not.to.include('(2)');
  });

  it('refuses to prompt without a terminal, with exit 2 and the --no-prompt fix', () => {
    expect(canPrompt({ isTTY: undefined })).to.equal(false);
    let thrown: (Error & { exitCode?: number; actions?: string[] }) | undefined;
    try {
      assertCanPrompt({ command: 'sf integration revoke', noPrompt: false, willAsk: true, stdin: {} });
    } catch (e) {
      thrown = e as typeof thrown;
    }
    expect(thrown?.exitCode).to.equal(2);
    expect(thrown?.message).to.include('sf integration revoke');
    expect(thrown?.actions?.join(' ')).to.include('--no-prompt');
  });

  it('passes with --no-prompt, with a terminal, or when there is nothing to ask', () => {
    expect(() => assertCanPrompt({ command: 'x', noPrompt: true, willAsk: true, stdin: {} })).not.to.throw();
    expect(() => assertCanPrompt({ command: 'x', noPrompt: false, willAsk: true, stdin: { isTTY: true } })).not.to.throw();
    expect(() => assertCanPrompt({ command: 'x', noPrompt: false, willAsk: false, stdin: {} })).not.to.throw();
  });
});
