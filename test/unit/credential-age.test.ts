import { expect } from 'chai';
import { credentialAgeDays, credentialTooOld } from '../../src/credentials/age.js';

describe('credentialAgeDays', () => {
  const now = new Date('2026-12-02T12:00:00Z');
  it('counts whole days since issue, never negative', () => {
    expect(credentialAgeDays('2026-12-01T12:00:01Z', now)).to.equal(0);
    expect(credentialAgeDays('2026-12-01T12:00:00Z', now)).to.equal(1);
    expect(credentialAgeDays(new Date('2025-12-02T12:00:00Z'), now)).to.equal(365);
    expect(credentialAgeDays('2027-01-01T00:00:00Z', now)).to.equal(0);
    expect(() => credentialAgeDays('soon', now)).to.throw(TypeError);
  });
  it('is too old only past the period', () => {
    expect(credentialTooOld('2025-12-02T12:00:00Z', 365, now)).to.equal(false);
    expect(credentialTooOld('2025-12-01T12:00:00Z', 365, now)).to.equal(true);
  });
});
