/*
 * What a license migration reads besides the snapshot, in one composite batch: the OAuth tokens the user holds
 * (Object Reference, OauthToken: one row per app the user authorized; `DeleteToken` is what an admin revokes another
 * user's token with) and the user's license with its seat counts (UserLicense). A plain filtered query of the
 * tokens: one user holds few, far below the 2,500-row cap that makes org-wide reads page.
 */
import { ApiCallError, soqlString, type Transport } from './transport.js';
import type { LicenseInfo } from './types.js';

/** A token the user holds. `deleteToken` is a secret: it stays in memory, never in a result, a journal or a log. */
export type HeldToken = { appName: string; useCount?: number; lastUsedDate?: string; deleteToken?: string };

export type MigrationFacts = { tokens: HeldToken[] | ApiCallError; userLicense?: LicenseInfo };

export const readMigrationFacts = async (transport: Transport, args: { userId: string; licenseName: string }): Promise<MigrationFacts> => {
  const answer = await transport.queryBatch({
    tokens: `SELECT AppName, UseCount, LastUsedDate, DeleteToken FROM OauthToken WHERE UserId = ${soqlString(args.userId)} ORDER BY AppName`,
    license: `SELECT Id, Name, TotalLicenses, UsedLicenses FROM UserLicense WHERE Name = ${soqlString(args.licenseName)}`,
  });
  const rows = answer.tokens;
  const lic = answer.license instanceof ApiCallError ? undefined : answer.license[0];
  return {
    tokens:
      rows instanceof ApiCallError
        ? rows
        : rows.map((r) => ({
            appName: String(r.AppName ?? ''),
            useCount: typeof r.UseCount === 'number' ? r.UseCount : undefined,
            lastUsedDate: r.LastUsedDate ? String(r.LastUsedDate) : undefined,
            deleteToken: r.DeleteToken ? String(r.DeleteToken) : undefined,
          })),
    userLicense: lic ? { id: String(lic.Id), name: String(lic.Name), total: Number(lic.TotalLicenses ?? 0), used: Number(lic.UsedLicenses ?? 0) } : undefined,
  };
};
