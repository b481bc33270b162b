/*
 * An app's refresh-token policy and IP relaxation, and every way they are spelled: the ConnectedApp metadata
 * (ConnectedAppOauthPolicy: `infinite`, `specific_lifetime:8:HOURS`), the External Client App metadata
 * (ExtlClntAppOauthConfigurablePolicies: `SpecificLifetime` with a period and a unit) and the words of this plugin's
 * flags and spec files (`lifetime:8:hours`). Metadata API Developer Guide: ConnectedApp, ExtlClntAppOauthConfigurablePolicies.
 * One definition for the app read, the app write, the planner, the checks and the desired state.
 */

export type RefreshTokenPolicy = {
  type: 'infinite' | 'zero' | 'specific_lifetime' | 'specific_inactivity';
  value?: number;
  unit?: 'HOURS' | 'DAYS' | 'MONTHS';
};

export type IpRelaxation = 'ENFORCE' | 'BYPASS' | 'BYPASS_2FACTOR' | 'ENFORCE_RELAXREFRESH';

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));

const unitOf = (v: unknown): NonNullable<RefreshTokenPolicy['unit']> => {
  const u = (str(v) ?? 'Days').toUpperCase();
  return u === 'HOURS' || u === 'MONTHS' ? u : 'DAYS';
};

// ---------------------------------------------------------------------------------------------------------
// ConnectedApp metadata: infinite | zero | specific_lifetime:N:UNIT | specific_inactivity:N:UNIT. Findings and
// plans print policies this way too.

export const parseRefreshPolicy = (text: string | undefined): RefreshTokenPolicy => {
  if (!text || text === 'infinite') return { type: 'infinite' };
  if (text === 'zero') return { type: 'zero' };
  const [kind, n, unit] = text.split(':');
  return {
    type: kind === 'specific_inactivity' ? 'specific_inactivity' : 'specific_lifetime',
    value: Number(n),
    unit: unitOf(unit),
  };
};

export const formatRefreshPolicy = (p: RefreshTokenPolicy): string =>
  p.type === 'infinite' || p.type === 'zero' ? p.type : `${p.type}:${p.value ?? 1}:${p.unit ?? 'DAYS'}`;

// ---------------------------------------------------------------------------------------------------------
// External Client App metadata: refreshTokenPolicyType with refreshTokenValidityPeriod and refreshTokenValidityUnit.

const ECA_REFRESH_TYPES: Record<RefreshTokenPolicy['type'], string> = {
  infinite: 'Infinite',
  zero: 'Zero',
  // eslint-disable-next-line camelcase
  specific_lifetime: 'SpecificLifetime',
  // eslint-disable-next-line camelcase
  specific_inactivity: 'SpecificInactivity',
};

export type EcaRefreshFields = { refreshTokenPolicyType?: unknown; refreshTokenValidityPeriod?: unknown; refreshTokenValidityUnit?: unknown };

export const ecaRefreshPolicy = (fields: EcaRefreshFields | undefined): RefreshTokenPolicy => {
  const type = (Object.keys(ECA_REFRESH_TYPES) as Array<RefreshTokenPolicy['type']>).find((t) => ECA_REFRESH_TYPES[t] === str(fields?.refreshTokenPolicyType));
  if (type === 'zero') return { type };
  if (type === 'specific_lifetime' || type === 'specific_inactivity') {
    return { type, value: Number(str(fields?.refreshTokenValidityPeriod) ?? 1), unit: unitOf(fields?.refreshTokenValidityUnit) };
  }
  return { type: 'infinite' };
};

const titleCase = (unit: string | undefined): string => (unit ? unit.charAt(0) + unit.slice(1).toLowerCase() : 'Days');

export const ecaRefreshFields = (p: RefreshTokenPolicy): Record<string, string | number> => ({
  refreshTokenPolicyType: ECA_REFRESH_TYPES[p.type],
  ...(p.type === 'specific_lifetime' || p.type === 'specific_inactivity' ? { refreshTokenValidityPeriod: p.value ?? 1, refreshTokenValidityUnit: titleCase(p.unit) } : {}),
});

const ECA_IP: Record<IpRelaxation, string> = {
  ENFORCE: 'Enforce',
  BYPASS: 'Bypass',
  BYPASS_2FACTOR: 'Bypass_2factor',
  ENFORCE_RELAXREFRESH: 'Enforce_RelaxRefresh',
};

/** ipRelaxationPolicyType as an External Client App spells it (Enforce, Bypass, Bypass_2factor, Enforce_RelaxRefresh). */
export const ecaIpRelaxation = (ip: IpRelaxation): string => ECA_IP[ip];

export const parseEcaIpRelaxation = (value: unknown): IpRelaxation =>
  (Object.keys(ECA_IP) as IpRelaxation[]).find((ip) => ECA_IP[ip] === str(value)) ?? 'ENFORCE';

// ---------------------------------------------------------------------------------------------------------
// The plugin's words (flags, spec files): infinite | zero | lifetime:N:UNIT | inactivity:N:UNIT, UNIT hours | days | months.

const WORD_KINDS: Readonly<Record<string, RefreshTokenPolicy['type']>> = { lifetime: 'specific_lifetime', inactivity: 'specific_inactivity' };
const WORD_UNITS = ['hours', 'days', 'months'] as const;

/** The policy the words name (case-insensitive), or undefined when they name none. */
export const parseRefreshPolicyWords = (value: string): RefreshTokenPolicy | undefined => {
  const v = value.trim().toLowerCase();
  if (v === 'infinite' || v === 'zero') return { type: v };
  const [kind, count, unit, ...rest] = v.split(':');
  const type = WORD_KINDS[kind];
  const amount = /^\d+$/.test(count ?? '') ? Number(count) : NaN;
  if (type === undefined || !(amount >= 1) || !WORD_UNITS.some((u) => u === unit) || rest.length > 0) return undefined;
  return { type, value: amount, unit: unit.toUpperCase() as NonNullable<RefreshTokenPolicy['unit']> };
};

export const formatRefreshPolicyWords = (policy: RefreshTokenPolicy): string => {
  if (policy.type === 'infinite' || policy.type === 'zero') return policy.type;
  const kind = policy.type === 'specific_lifetime' ? 'lifetime' : 'inactivity';
  return `${kind}:${policy.value ?? 0}:${(policy.unit ?? 'HOURS').toLowerCase()}`;
};

/** `--ip-relaxation` words and the app setting each stands for. */
export const IP_RELAXATION_WORDS: Readonly<Record<string, IpRelaxation>> = {
  enforce: 'ENFORCE',
  bypass: 'BYPASS',
  'bypass-2fa': 'BYPASS_2FACTOR',
  'enforce-relax-refresh': 'ENFORCE_RELAXREFRESH',
};

export const formatIpRelaxationWords = (ip: IpRelaxation): string =>
  Object.keys(IP_RELAXATION_WORDS).find((k) => IP_RELAXATION_WORDS[k] === ip) ?? 'enforce';
