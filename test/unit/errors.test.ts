import { expect } from 'chai';
import { CATALOGUE_ENTRIES, CHECK_IDS, explainError, runChecks } from '../../src/checks/index.js';
import type { CheckResult } from '../../src/checks/types.js';
import { healthyContext, healthySnapshot, IDS, permissionSet } from './snapshot-fixtures.js';

const top = (text: string, results?: CheckResult[]): ReturnType<typeof explainError>['causes'][number] => {
  const [first] = explainError(text, results).causes;
  return first;
};

const failed = (id: string): CheckResult => ({ id, group: 'app', status: 'fail', finding: 'x' });
const passed = (id: string): CheckResult => ({ id, group: 'app', status: 'pass', finding: 'x' });

describe('explainError', () => {
  describe('parsing the pasted forms', () => {
    it('reads "error: description"', () => {
      expect(explainError("invalid_grant: user hasn't approved this consumer").matched).to.deep.equal({
        error: 'invalid_grant',
        errorDescription: "user hasn't approved this consumer",
      });
    });

    it('reads the JSON body', () => {
      const explanation = explainError('{"error":"invalid_grant","error_description":"audience is invalid"}');
      expect(explanation.matched).to.deep.equal({ error: 'invalid_grant', errorDescription: 'audience is invalid' });
      expect(explanation.entry).to.equal('audience-invalid');
    });

    it('reads a JSON body inside an HTTP log line', () => {
      const explanation = explainError('HTTP 400 Bad Request {"error":"invalid_client_id","error_description":"client identifier invalid"}');
      expect(explanation.matched?.error).to.equal('invalid_client_id');
      expect(explanation.entry).to.equal('client-identifier-invalid');
    });

    it('unwraps the CLI "JSON web token error" wrapper', () => {
      const text =
        "We encountered a JSON web token error, which is likely not an issue with Salesforce CLI. Here's the error: invalid_grant - invalid assertion";
      const explanation = explainError(text);
      expect(explanation.matched).to.deep.equal({ error: 'invalid_grant', errorDescription: 'invalid assertion' });
      expect(explanation.entry).to.equal('invalid-assertion');
    });

    it('unwraps "Error authenticating with JWT. Errors encountered:" and drops the audience annotation', () => {
      const text =
        'Error authenticating with JWT.\nErrors encountered:\ninvalid_grant: audience is invalid [audience=http://login.salesforce.com login=https://test.salesforce.com]';
      const explanation = explainError(text);
      expect(explanation.matched).to.deep.equal({ error: 'invalid_grant', errorDescription: 'audience is invalid' });
      expect(explanation.causes[0].confirmingChecks).to.deep.equal(['org-login-url']);
    });

    it('reads "Error authenticating with JWT config due to: <description>" without a code', () => {
      const explanation = explainError("Error authenticating with JWT config due to: user hasn't approved this consumer");
      expect(explanation.matched).to.deep.equal({ error: 'invalid_grant', errorDescription: "user hasn't approved this consumer" });
    });

    it('returns no match and the most common causes for unknown text, the generic one last', () => {
      const explanation = explainError('something else entirely');
      expect(explanation.matched).to.equal(undefined);
      expect(explanation.entry).to.equal(undefined);
      expect(explanation.causes.length).to.be.greaterThan(3);
      expect(explanation.causes[0].confirmingChecks).to.include('user-permission-set-assigned');
      expect(explanation.causes.at(-1)!.fix).to.include('sf integration doctor');
    });

    it('strips escape sequences and control characters from a pasted error and caps what it echoes', () => {
      const explanation = explainError(`\u001b]0;pwned\u0007\u001b[2Jinvalid_client: ${'x'.repeat(50_000)}`);
      const echoed = JSON.stringify(explanation.matched);
      expect(echoed).to.not.match(/\\u001b|\\u0007/);
      expect(explanation.matched?.error).to.equal('invalid_client');
      expect(explanation.matched!.errorDescription!.length).to.be.below(260);
    });
  });

  describe('ranks the right cause first', () => {
    const cases: Array<[string, string, string[]]> = [
      ["invalid_grant: user hasn't approved this consumer", 'not-approved-consumer', ['app-permission-set-associated']],
      ['invalid_app_access: user is not admin approved to access this app', 'not-admin-approved', ['app-permission-set-associated']],
      ['OAUTH_APP_ACCESS_DENIED', 'not-admin-approved', ['app-permission-set-associated']],
      ['invalid_grant: audience is invalid', 'audience-invalid', ['org-login-url']],
      ['invalid_grant: Audience validation failed', 'audience-invalid', ['org-login-url']],
      ['invalid_grant: invalid assertion', 'invalid-assertion', ['app-certificate-key-match']],
      ['invalid_grant: expired authorization code', 'expired-authorization-code', []],
      ['invalid_grant: inactive user', 'inactive-user', ['user-active', 'user-exists']],
      ['invalid_client_id: client identifier invalid', 'client-identifier-invalid', ['app-consumer-key']],
      ['invalid_client: invalid client credentials', 'invalid-client-credentials', []],
      ['unsupported_grant_type: grant type not supported', 'unsupported-grant-type', ['app-flow-enabled']],
      ['invalid_grant: request not supported on this domain', 'request-not-supported-on-domain', ['org-login-url']],
      ['invalid_grant: no client credentials user enabled', 'no-client-credentials-user', ['app-client-credentials-user']],
      ['Enter a valid execution user for the OAuth client credentials flow', 'no-client-credentials-user', ['app-client-credentials-user']],
      ['invalid_client: app must be installed into org', 'app-must-be-installed', ['app-exists', 'app-admin-approved', 'app-permission-set-associated']],
      ['External client app is not installed in this org', 'external-client-app-not-installed', ['app-exists', 'org-login-url']],
      ['not authorized', 'not-authorized', ['app-ip-relaxation']],
      ['API_DISABLED_FOR_ORG: API is not enabled for this Organization or Partner', 'api-disabled', ['user-api-enabled']],
      ['INVALID_SESSION_ID: Invalid Session ID found in SessionHeader', 'invalid-session', ['app-jwt-access-tokens']],
      ['worked for weeks then invalid_grant', 'worked-then-invalid-grant', ['app-refresh-token-policy']],
      ['it worked for months, now it stopped working with invalid_grant', 'worked-then-invalid-grant', ['app-refresh-token-policy']],
      ['works immediately after setup then fails', 'fails-after-setup', ['app-propagation']],
      ['invalid_grant', 'invalid-grant', ['app-refresh-token-policy']],
    ];
    for (const [text, entry, checks] of cases) {
      it(`${text} → ${checks.join(', ') || 'no check'}`, () => {
        const explanation = explainError(text);
        expect(explanation.entry).to.equal(entry);
        expect(explanation.causes[0].rank).to.equal(1);
        expect(explanation.causes[0].confirmingChecks).to.deep.equal(checks);
        expect(explanation.causes[0].cause).to.match(/\S/);
        expect(explanation.causes[0].fix).to.match(/\S/);
        expect(explanation.causes[0].confirmed).to.equal(undefined);
      });
    }

    it('lists the refresh token policy second for "user hasn\'t approved this consumer" (seed 001: both required)', () => {
      const causes = explainError("user hasn't approved this consumer").causes;
      expect(causes[1].confirmingChecks).to.deep.equal(['app-refresh-token-policy']);
      expect(causes.map((cause) => cause.rank)).to.deep.equal(causes.map((_, i) => i + 1));
    });

    it('prefers the more specific entry when a CLI message carries two errors', () => {
      const text = "External client app is not installed in this org … user hasn't approved this consumer";
      expect(explainError(text).entry).to.equal('external-client-app-not-installed');
    });

    it('covers every catalogue entry with a case, and names only real check ids', () => {
      const covered = new Set(cases.map(([, entry]) => entry));
      expect([...CATALOGUE_ENTRIES].filter((entry) => !covered.has(entry))).to.deep.equal([]);
      for (const [text] of cases) {
        for (const cause of explainError(text).causes) {
          for (const id of cause.confirmingChecks) expect(CHECK_IDS).to.include(id);
        }
      }
    });
  });

  describe('with check results', () => {
    it('moves a confirmed cause first and marks it', () => {
      const text = "invalid_grant: user hasn't approved this consumer";
      const results = [passed('app-permission-set-associated'), failed('app-refresh-token-policy')];
      const causes = explainError(text, results).causes;
      expect(causes[0]).to.include({ rank: 1, confirmed: true });
      expect(causes[0].confirmingChecks).to.deep.equal(['app-refresh-token-policy']);
      expect(causes[1].confirmed).to.equal(false);
      expect(causes[1].confirmingChecks).to.deep.equal(['app-permission-set-associated']);
    });

    it('counts warnings as confirmation', () => {
      const results: CheckResult[] = [{ id: 'app-propagation', group: 'app', status: 'warn', finding: 'x' }];
      expect(top('invalid_client_id: client identifier invalid', results).confirmingChecks).to.deep.equal(['app-propagation']);
    });

    it('keeps the catalogue order when nothing is confirmed', () => {
      const causes = explainError('invalid_grant: invalid assertion', [passed('app-certificate-key-match')]).causes;
      expect(causes[0].confirmingChecks).to.deep.equal(['app-certificate-key-match']);
      expect(causes.every((cause) => cause.confirmed === false)).to.equal(true);
    });

    it('works with real results: an unselected permission set confirms invalid_app_access', () => {
      const other = permissionSet({ id: IDS.otherSet, name: 'Other_Set' });
      const snapshot = healthySnapshot({ app: { permissionSetIds: [IDS.otherSet] }, permissionSets: [other] });
      const results = runChecks(snapshot, healthyContext());
      const [first] = explainError('invalid_app_access: user is not admin approved to access this app', results).causes;
      expect(first).to.include({ confirmed: true });
      expect(first.confirmingChecks).to.include('app-permission-set-associated');
    });

    it('works with real results: a short refresh policy confirms "worked for weeks"', () => {
      const snapshot = healthySnapshot({
        app: { refreshTokenPolicy: { type: 'specific_inactivity', value: 2, unit: 'MONTHS' } },
        user: { assignments: [{ id: IDS.assignment, permissionSetId: IDS.permissionSet }] },
      });
      const [first] = explainError('worked for weeks then invalid_grant', runChecks(snapshot, healthyContext())).causes;
      expect(first.confirmingChecks).to.deep.equal(['app-refresh-token-policy']);
      expect(first.confirmed).to.equal(true);
    });
  });
});
