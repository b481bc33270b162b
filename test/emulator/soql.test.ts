/* SOQL evaluator over an org store (no HTTP). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { runSoql, type JsonRecord } from './soql.js';
import { ApiError, OrgStore, type Fixture } from './store.js';

const DEFAULT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'default.json');

const ADMIN = '005Em0000000001IAA';
const ADMIN_PS = '0PSEm0000000001OAA';
const INTEGRATION_PS = '0PSEm0000000002OAA';

const fixture = (): Fixture => {
  const f = JSON.parse(readFileSync(DEFAULT, 'utf8')) as Fixture;
  const records = f.records ?? {};
  records.Account = [
    { Id: '001Em0000000001AAA', Name: 'Acme', Industry: 'Energy' },
    { Id: '001Em0000000002AAA', Name: 'beta corp', Industry: null },
    { Id: '001Em0000000003AAA', Name: 'Gamma_1', Industry: 'Banking' },
    { Id: '001Em0000000004AAA', Name: 'Delta', Industry: 'Energy' },
  ];
  records.Contact = [
    { Id: '003Em0000000001AAA', LastName: 'One', AccountId: '001Em0000000001AAA' },
    { Id: '003Em0000000002AAA', LastName: 'Two', AccountId: '001Em0000000001AAA' },
    { Id: '003Em0000000003AAA', LastName: 'Three', AccountId: null },
  ];
  records.Opportunity = [
    { Id: '006Em0000000001AAA', Name: 'O1', StageName: 'Prospecting', CloseDate: '2026-03-15', Amount: 100, AccountId: '001Em0000000001AAA', CreatedDate: '2026-03-15T08:00:00.000+0000' },
    { Id: '006Em0000000002AAA', Name: 'O2', StageName: 'Closed Won', CloseDate: '2026-03-10', Amount: 250.5, AccountId: '001Em0000000001AAA', CreatedDate: '2026-03-01T00:00:00.000+0000' },
    { Id: '006Em0000000003AAA', Name: 'O3', StageName: 'Closed Won', CloseDate: '2026-03-18', Amount: null, AccountId: '001Em0000000004AAA', CreatedDate: '2025-12-31T23:59:59.000+0000' },
  ];
  records.ObjectPermissions = [
    { Id: '110Em0000000001AAA', ParentId: INTEGRATION_PS, SobjectType: 'Account', PermissionsRead: true },
  ];
  records.OauthToken = [{ Id: '0CQEm0000000001AAA', AppName: 'CLI', UserId: ADMIN, UseCount: 3 }];
  f.emulator = { ...(f.emulator ?? {}), now: '2026-03-15T12:00:00.000Z' };
  return f;
};

const catchError = (fn: () => unknown): ApiError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
};

describe('SOQL evaluator', () => {
  let store: OrgStore;
  const q = (soql: string): { totalSize: number; done: boolean; records: JsonRecord[] } => runSoql(store, soql);
  const names = (soql: string): unknown[] => q(soql).records.map((r) => r.Name);

  beforeEach(() => {
    store = new OrgStore(fixture());
  });

  describe('select lists', () => {
    it('answers relationship fields as nested records with attributes', () => {
      const [u] = q('SELECT Id, Profile.Name, Profile.UserLicense.Name FROM User').records;
      expect(u).to.deep.equal({
        attributes: { type: 'User', url: `/services/data/v66.0/sobjects/User/${ADMIN}` },
        Id: ADMIN,
        Profile: {
          attributes: { type: 'Profile', url: '/services/data/v66.0/sobjects/Profile/00eEm0000000001IAA' },
          Name: 'System Administrator',
          UserLicense: {
            attributes: { type: 'UserLicense', url: '/services/data/v66.0/sobjects/UserLicense/100Em0000000001IAA' },
            Name: 'Salesforce',
          },
        },
      });
    });

    it('answers null for an empty reference', () => {
      const [u] = q('SELECT UserRole.Name FROM User').records;
      expect(u.UserRole).to.equal(null);
    });

    it('follows two-level paths such as Parent.Profile.Name and Parent.IsOwnedByProfile', () => {
      const [op] = q('SELECT Parent.IsOwnedByProfile, Parent.Profile.Name FROM ObjectPermissions').records;
      const parent = op.Parent as JsonRecord;
      expect(parent.IsOwnedByProfile).to.equal(true);
      expect((parent.Profile as JsonRecord).Name).to.equal('Minimum Access - API Only Integrations');
    });

    it('resolves object and field names case-insensitively and answers API-name casing', () => {
      const [u] = q('select id, username, profile.name from USER').records;
      expect(Object.keys(u)).to.deep.equal(['attributes', 'Id', 'Username', 'Profile']);
      expect((u.attributes as JsonRecord).type).to.equal('User');
      expect(Object.keys(u.Profile as JsonRecord)).to.deep.equal(['attributes', 'Name']);
    });

    it('answers OauthToken.Id as null and gives its attributes no url', () => {
      const [t] = q('SELECT Id, AppName, User.Username FROM OauthToken').records;
      expect(t.Id).to.equal(null);
      expect(t.attributes).to.deep.equal({ type: 'OauthToken' });
      expect((t.User as JsonRecord).Username).to.equal('admin@emulated-org.example');
    });

    it('answers child subqueries as {totalSize, done, records}, or null without children', () => {
      const res = q('SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account ORDER BY Name');
      const acme = res.records.find((r) => r.Name === 'Acme')!;
      expect(acme.Contacts).to.deep.equal({
        totalSize: 2,
        done: true,
        records: [
          { attributes: { type: 'Contact', url: '/services/data/v66.0/sobjects/Contact/003Em0000000001AAA' }, LastName: 'One' },
          { attributes: { type: 'Contact', url: '/services/data/v66.0/sobjects/Contact/003Em0000000002AAA' }, LastName: 'Two' },
        ],
      });
      expect(res.records.find((r) => r.Name === 'Delta')!.Contacts).to.equal(null);
    });

    it('supports User.PermissionSetAssignments and PermissionSet.Assignments with filters', () => {
      const [u] = q('SELECT (SELECT PermissionSet.Name FROM PermissionSetAssignments) FROM User').records;
      const psa = u.PermissionSetAssignments as { records: JsonRecord[] };
      expect((psa.records[0].PermissionSet as JsonRecord).Name).to.equal('X00eEm0000000001');
      const sets = q(`SELECT Id, (SELECT AssigneeId FROM Assignments WHERE Assignee.IsActive = true) FROM PermissionSet WHERE Id = '${ADMIN_PS}'`);
      expect((sets.records[0].Assignments as { totalSize: number }).totalSize).to.equal(1);
      expect(q('SELECT (SELECT Id FROM ObjectPerms), (SELECT Id FROM FieldPerms), (SELECT Id FROM SetupEntityAccessItems) FROM PermissionSet').totalSize).to.equal(3);
    });

    it('refuses a duplicate field', () => {
      expect(catchError(() => q('SELECT Id, id FROM User')).errorCode).to.equal('MALFORMED_QUERY');
    });
  });

  describe('WHERE', () => {
    it('gives AND precedence over OR, and parentheses override it', () => {
      // Acme OR (beta AND Banking) -> Acme only; (Acme OR beta) AND Energy -> Acme only; Gamma via OR
      expect(names("SELECT Name FROM Account WHERE Name = 'Acme' OR Name = 'beta corp' AND Industry = 'Banking' ORDER BY Name")).to.deep.equal(['Acme']);
      expect(names("SELECT Name FROM Account WHERE Industry = 'Banking' OR Name = 'Delta' AND Industry = 'Energy' ORDER BY Name")).to.deep.equal(['Delta', 'Gamma_1']);
      expect(names("SELECT Name FROM Account WHERE (Name = 'Acme' OR Name = 'Gamma_1') AND Industry = 'Banking'")).to.deep.equal(['Gamma_1']);
    });

    it('binds NOT to the next condition or parenthesised group', () => {
      expect(names("SELECT Name FROM Account WHERE NOT Industry = 'Energy' AND Name != 'beta corp'")).to.deep.equal(['Gamma_1']);
      expect(names("SELECT Name FROM Account WHERE NOT (Industry = 'Energy' OR Industry = 'Banking') ORDER BY Name")).to.deep.equal(['beta corp']);
      expect(names("SELECT Name FROM Account WHERE (NOT Name = 'Acme') AND Industry = 'Energy'")).to.deep.equal(['Delta']);
    });

    it('compares strings case-insensitively; != also matches nulls', () => {
      expect(names("SELECT Name FROM Account WHERE Name = 'ACME'")).to.deep.equal(['Acme']);
      expect(names("SELECT Name FROM Account WHERE Industry != 'Energy' ORDER BY Name")).to.deep.equal(['beta corp', 'Gamma_1']);
      expect(names('SELECT Name FROM Account WHERE Industry = null')).to.deep.equal(['beta corp']);
      expect(names('SELECT Name FROM Account WHERE Industry != null ORDER BY Name')).to.have.length(3);
    });

    it('supports LIKE with % and _ (case-insensitive) and escaped wildcards', () => {
      expect(names("SELECT Name FROM Account WHERE Name LIKE 'a%'")).to.deep.equal(['Acme']);
      expect(names("SELECT Name FROM Account WHERE Name LIKE '_elt_'")).to.deep.equal(['Delta']);
      expect(names("SELECT Name FROM Account WHERE Name LIKE 'gamma\\_%'")).to.deep.equal(['Gamma_1']);
      expect(names("SELECT Name FROM Account WHERE Name LIKE 'gamma\\_'")).to.deep.equal([]);
    });

    it('supports IN, NOT IN, numbers, booleans and comparison operators', () => {
      expect(names("SELECT Name FROM Account WHERE Industry IN ('energy', 'Banking') ORDER BY Name")).to.deep.equal(['Acme', 'Delta', 'Gamma_1']);
      expect(names("SELECT Name FROM Account WHERE Industry NOT IN ('Energy') ORDER BY Name")).to.deep.equal(['beta corp', 'Gamma_1']);
      expect(names('SELECT Name FROM Opportunity WHERE Amount > 100')).to.deep.equal(['O2']);
      expect(names('SELECT Name FROM Opportunity WHERE Amount >= 100 ORDER BY Name')).to.deep.equal(['O1', 'O2']);
      expect(names('SELECT Name FROM Opportunity WHERE Amount < 250.5')).to.deep.equal(['O1']);
      expect(names('SELECT Name FROM Opportunity WHERE Amount <= 250.5 ORDER BY Name')).to.deep.equal(['O1', 'O2']);
      expect(q('SELECT Id FROM User WHERE IsActive = true').totalSize).to.equal(1);
      expect(q('SELECT Id FROM User WHERE IsActive = false').totalSize).to.equal(0);
    });

    it('matches 15-character Ids against stored 18-character Ids', () => {
      expect(q(`SELECT Id FROM User WHERE Id = '${ADMIN.slice(0, 15)}'`).totalSize).to.equal(1);
      expect(q(`SELECT Id FROM PermissionSetAssignment WHERE AssigneeId IN ('${ADMIN}')`).totalSize).to.equal(1);
    });

    it('filters date and datetime fields by literal values', () => {
      expect(names('SELECT Name FROM Opportunity WHERE CloseDate > 2026-03-12 ORDER BY Name')).to.deep.equal(['O1', 'O3']);
      expect(names('SELECT Name FROM Opportunity WHERE CreatedDate >= 2026-03-01T00:00:00Z ORDER BY Name')).to.deep.equal(['O1', 'O2']);
      expect(names('SELECT Name FROM Opportunity WHERE CreatedDate < 2026-01-01T00:00:00.000+0000')).to.deep.equal(['O3']);
    });

    it('evaluates date literals relative to now (TODAY, LAST_N_DAYS, NEXT_N_DAYS, THIS_YEAR)', () => {
      expect(names('SELECT Name FROM Opportunity WHERE CloseDate = TODAY')).to.deep.equal(['O1']);
      expect(names('SELECT Name FROM Opportunity WHERE CreatedDate = TODAY')).to.deep.equal(['O1']);
      expect(names('SELECT Name FROM Opportunity WHERE CloseDate = LAST_N_DAYS:5 ORDER BY Name')).to.deep.equal(['O1', 'O2']);
      expect(names('SELECT Name FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:3')).to.deep.equal(['O3']);
      expect(names('SELECT Name FROM Opportunity WHERE CloseDate = NEXT_N_DAYS:2')).to.deep.equal([]);
      expect(names('SELECT Name FROM Opportunity WHERE CreatedDate = LAST_N_DAYS:14 ORDER BY Name')).to.deep.equal(['O1', 'O2']);
      expect(names('SELECT Name FROM Opportunity WHERE CreatedDate < THIS_YEAR')).to.deep.equal(['O3']);
      expect(names('SELECT Name FROM Opportunity WHERE CloseDate > TODAY')).to.deep.equal(['O3']);
    });

    it('supports semi-joins and anti-joins', () => {
      expect(q('SELECT Id FROM User WHERE Id IN (SELECT AssigneeId FROM PermissionSetAssignment)').totalSize).to.equal(1);
      expect(q(`SELECT Id FROM User WHERE Id NOT IN (SELECT AssigneeId FROM PermissionSetAssignment WHERE PermissionSetId = '${ADMIN_PS}')`).totalSize).to.equal(0);
      expect(names("SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Opportunity WHERE StageName = 'Closed Won') ORDER BY Name")).to.deep.equal(['Acme', 'Delta']);
    });
  });

  describe('ORDER BY, LIMIT, OFFSET', () => {
    it('sorts case-insensitively, nulls first by default, with DESC and NULLS LAST', () => {
      expect(names('SELECT Name FROM Account ORDER BY Name')).to.deep.equal(['Acme', 'beta corp', 'Delta', 'Gamma_1']);
      expect(names('SELECT Name FROM Account ORDER BY Industry, Name DESC')).to.deep.equal(['beta corp', 'Gamma_1', 'Delta', 'Acme']);
      expect(names('SELECT Name FROM Account ORDER BY Industry DESC NULLS LAST, Name')).to.deep.equal(['Acme', 'Delta', 'Gamma_1', 'beta corp']);
      expect(names('SELECT Name FROM Opportunity ORDER BY Amount DESC')).to.deep.equal(['O3', 'O2', 'O1']);
      const byParent = q('SELECT LastName FROM Contact ORDER BY Account.Name NULLS LAST, LastName DESC').records.map((r) => r.LastName);
      expect(byParent).to.deep.equal(['Two', 'One', 'Three']);
    });

    it('applies LIMIT and OFFSET after sorting; totalSize counts the answered rows', () => {
      const res = q('SELECT Name FROM Account ORDER BY Name LIMIT 2 OFFSET 1');
      expect(res.totalSize).to.equal(2);
      expect(res.records.map((r) => r.Name)).to.deep.equal(['beta corp', 'Delta']);
    });

    it('refuses an OFFSET above 2000', () => {
      expect(catchError(() => q('SELECT Id FROM Account OFFSET 2001')).errorCode).to.equal('NUMBER_OUTSIDE_VALID_RANGE');
    });
  });

  describe('aggregates', () => {
    it('answers COUNT() as totalSize with no records', () => {
      expect(q('SELECT COUNT() FROM Account')).to.deep.equal({ totalSize: 4, done: true, records: [] });
      expect(q("SELECT COUNT() FROM Account WHERE Industry = 'Energy'").totalSize).to.equal(2);
    });

    it('answers COUNT(Id) as one AggregateResult named expr0', () => {
      expect(q('SELECT COUNT(Id) FROM Account')).to.deep.equal({
        totalSize: 1,
        done: true,
        records: [{ attributes: { type: 'AggregateResult' }, expr0: 4 }],
      });
    });

    it('groups, names unaliased aggregates expr0.., keeps aliases, orders by aggregates', () => {
      const res = q('SELECT Industry, COUNT(Id), MAX(Name) top FROM Account GROUP BY Industry ORDER BY COUNT(Id) DESC, Industry');
      expect(res.records).to.deep.equal([
        { attributes: { type: 'AggregateResult' }, Industry: 'Energy', expr0: 2, top: 'Delta' },
        { attributes: { type: 'AggregateResult' }, Industry: null, expr0: 1, top: 'beta corp' },
        { attributes: { type: 'AggregateResult' }, Industry: 'Banking', expr0: 1, top: 'Gamma_1' },
      ]);
      const sums = q('SELECT Account.Name, SUM(Amount), COUNT(Id) FROM Opportunity GROUP BY Account.Name ORDER BY Account.Name');
      expect(sums.records.map((r) => [r.Name, r.expr0, r.expr1])).to.deep.equal([
        ['Acme', 350.5, 2],
        ['Delta', null, 1],
      ]);
    });

    it('refuses a field that is neither grouped nor aggregated', () => {
      const err = catchError(() => q('SELECT Name, COUNT(Id) FROM Account GROUP BY Industry'));
      expect(err.errorCode).to.equal('MALFORMED_QUERY');
      expect(err.message).to.contain('Field must be grouped or aggregated: Name');
    });
  });

  describe('errors', () => {
    it('answers INVALID_TYPE with Salesforce framing for an unknown object', () => {
      const err = catchError(() => q('select count() from XYZZY'));
      expect(err.status).to.equal(400);
      expect(err.errorCode).to.equal('INVALID_TYPE');
      // Verbatim from wire/rest-composite-query-error-invalid-type.json.
      expect(err.message).to.equal(
        "\nselect count() from XYZZY\n                    ^\nERROR at Row:1:Column:21\nsObject type 'XYZZY' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
      );
    });

    it('answers INVALID_FIELD with framing for an unknown column', () => {
      const err = catchError(() => q('SELECT Id, Bogus FROM User'));
      expect(err.errorCode).to.equal('INVALID_FIELD');
      expect(err.message).to.equal(
        "\nSELECT Id, Bogus FROM User\n           ^\nERROR at Row:1:Column:12\nNo such column 'Bogus' on entity 'User'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
      );
      expect(catchError(() => q('SELECT Profile.Bogus FROM User')).message).to.contain("No such column 'Bogus' on entity 'Profile'");
      expect(catchError(() => q('SELECT Nope.Name FROM User')).message).to.contain("Didn't understand relationship 'Nope' in field path");
      expect(catchError(() => q("SELECT Id FROM User WHERE Bogus = 'x'")).errorCode).to.equal('INVALID_FIELD');
    });

    it('answers MALFORMED_QUERY for syntax errors', () => {
      const err = catchError(() => q('SELECT Id FROM User WHERE'));
      expect(err.errorCode).to.equal('MALFORMED_QUERY');
      expect(err.message).to.contain('ERROR at Row:1:Column:26');
      expect(catchError(() => q('SELEC Id FROM User')).errorCode).to.equal('MALFORMED_QUERY');
    });

    it('refuses filter values of the wrong type', () => {
      const bool = catchError(() => q("SELECT Id FROM User WHERE IsActive = 'true'"));
      expect(bool.errorCode).to.equal('INVALID_QUERY_FILTER_OPERATOR');
      expect(bool.message).to.contain("value of filter criterion for field 'IsActive' must be of type boolean and should not be enclosed in quotes");
      expect(catchError(() => q("SELECT Id FROM User WHERE Id = 'abc'")).message).to.contain('invalid ID field: abc');
      expect(catchError(() => q('SELECT Id FROM User WHERE Username = 5')).errorCode).to.equal('INVALID_QUERY_FILTER_OPERATOR');
      expect(catchError(() => q('SELECT Id FROM User WHERE CreatedDate > 2026-01-01')).errorCode).to.equal('INVALID_QUERY_FILTER_OPERATOR');
    });

    it('answers INVALID_TYPE for an unknown child relationship and for tooling-only objects on the data API', () => {
      expect(catchError(() => q('SELECT (SELECT Id FROM Contact) FROM Account')).message).to.contain(
        "Didn't understand relationship 'Contact' in FROM part of query call"
      );
      expect(catchError(() => q('SELECT Id FROM Certificate')).errorCode).to.equal('INVALID_TYPE');
      expect(runSoql(store, 'SELECT Id FROM Certificate', { api: 'tooling' }).totalSize).to.equal(0);
      expect(catchError(() => runSoql(store, 'SELECT Id FROM User', { api: 'tooling' })).errorCode).to.equal('INVALID_TYPE');
      expect(catchError(() => q('SELECT Id FROM ScratchOrgInfo LIMIT 1')).errorCode).to.equal('INVALID_TYPE');
    });
  });
});
