/**
 * Deterministic catalog generator for the benchmark: a seeded PRNG builds an organisation of teams
 * (Groups with parents), users (memberOf teams), systems (owned by teams) and applications
 * (Components with owner, system, dependsOn, optional providesApis/consumesApis, tags, and
 * descriptions drawn from a Zipf-distributed vocabulary, so that full-text search has realistic
 * selectivity: a few very common words, many rare ones). Same seed and size → same YAML, byte for byte.
 */

export type GenKind = 'team' | 'user' | 'system' | 'application';

export interface GeneratedEntity {
  ref: string;
  kind: GenKind;
  name: string;
  /** Where the document "lives": consecutive documents with the same location form one multi-doc file. */
  location: string;
  yaml: string;
  /** The text the server indexes for search: name, title, description and tags. */
  searchText: string;
  /** Owner ref, for applications and systems. */
  owner: string | null;
}

export interface Dataset {
  seed: number;
  entities: GeneratedEntity[];
  counts: Record<GenKind, number>;
  /** Team refs, all of them (departments own nothing, so some owners have empty lists). */
  teams: string[];
  /** Applications per owning team ref. */
  appsByOwner: Map<string, number>;
  /** Vocabulary, most frequent first (rank order of the Zipf draw). */
  vocab: string[];
  yamlBytes: number;
  relationsDeclared: number;
}

export interface ImportFile {
  location: string;
  content: string;
}

export interface ImportBatch {
  index: number;
  entities: number;
  files: ImportFile[];
}

// ---- PRNG ------------------------------------------------------------------------------------------

/** sfc32, seeded through splitmix32: small, fast and good enough for test data. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.next();
  }
  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

/** Draws ranks 0..n-1 with P(rank k) ∝ 1/(k+1)^s. */
export class Zipf {
  private readonly cdf: Float64Array;
  constructor(n: number, s: number) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      sum += 1 / Math.pow(k + 1, s);
      this.cdf[k] = sum;
    }
    for (let k = 0; k < n; k++) this.cdf[k]! /= sum;
  }
  draw(rng: Rng): number {
    const u = rng.next();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

// ---- words -----------------------------------------------------------------------------------------

const DOMAIN_WORDS = `
payment billing invoice ledger account customer order checkout cart catalog inventory warehouse shipping delivery
tracking notification email sms push message queue stream event audit compliance identity login session token
password profile preference recommendation search index ranking pricing discount coupon promotion loyalty reward
subscription plan trial refund dispute fraud risk score report analytics dashboard metric telemetry logging tracing
alert incident oncall deployment release pipeline build artifact registry container cluster node scheduler worker
cron batch export import sync replication backup archive storage bucket blob cache session gateway proxy router
balancer firewall certificate secret vault key rotation encryption signing policy permission role tenant organisation
workspace project team member invitation onboarding signup verification consent privacy retention deletion anonymise
geolocation address map route fleet driver vehicle booking reservation calendar availability slot appointment
ticket support chat conversation feedback survey review rating comment moderation content media image video upload
transcode thumbnail document template render preview editor workflow approval task reminder escalation sla contract
quote proposal lead opportunity campaign marketing attribution experiment feature flag rollout config settings
translation locale currency tax accounting payroll expense budget forecast procurement supplier vendor partner
integration webhook connector adapter bridge mirror snapshot migration schema ingestion etl warehouse lake model
training inference feature store embedding classifier forecasting anomaly detection monitoring health probe status
availability latency throughput capacity quota limit throttle retry circuit breaker fallback graph network topology
device firmware sensor gateway telemetry edge mobile web desktop kiosk terminal printer scanner barcode label manifest
customs clearance carrier tariff freight container port vessel harbour terminal berth crane yard gate appointment
claim policy premium underwriting broker agent commission renewal endorsement coverage deductible actuarial
patient clinic appointment prescription pharmacy lab result imaging referral insurance benefit enrolment eligibility
student course lesson grade exam enrolment classroom teacher curriculum library loan catalogue reservation
`;

const SYLLABLES = ['ka', 'lo', 'mi', 'ra', 'ven', 'tor', 'sel', 'qua', 'dri', 'ban', 'cor', 'fel', 'gan', 'hul', 'jin',
  'mar', 'nex', 'pol', 'rix', 'sta', 'tun', 'vor', 'wel', 'zan', 'bel', 'dor', 'fin', 'gra', 'lum', 'nor', 'pra', 'sim',
  'tal', 'ul', 'ver', 'xan', 'yor', 'zel', 'an', 'es', 'ir', 'on', 'ush', 'ark', 'eld', 'ost'];

/** The vocabulary in rank order: real domain words first (shuffled), then invented words for the long tail. */
function buildVocabulary(rng: Rng, size: number): string[] {
  const seen = new Set<string>();
  const real = DOMAIN_WORDS.split(/\s+/).filter((w) => w && !seen.has(w) && seen.add(w));
  rng.shuffle(real);
  const out = [...real];
  while (out.length < size) {
    const n = rng.range(2, 3);
    let w = '';
    for (let i = 0; i < n; i++) w += rng.pick(SYLLABLES);
    if (!seen.has(w)) {
      seen.add(w);
      out.push(w);
    }
  }
  return out;
}

const FILLERS = ['the', 'and', 'for', 'with', 'of', 'to', 'from', 'in', 'by', 'on'];
const TAGS = ['java', 'kotlin', 'go', 'typescript', 'python', 'rust', 'scala', 'ruby', 'grpc', 'rest', 'graphql', 'kafka',
  'postgres', 'mysql', 'redis', 'elasticsearch', 'kubernetes', 'lambda', 'react', 'spring', 'django', 'node', 'pci',
  'gdpr', 'tier-1', 'tier-2', 'tier-3', 'internal', 'external', 'legacy', 'batch', 'realtime'];
const FIRST = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj',
  'olivia', 'peggy', 'rupert', 'sybil', 'trent', 'victor', 'walter', 'yusuf', 'zoe', 'amara', 'bruno', 'chen', 'dara',
  'emil', 'farah', 'goran', 'hana', 'ines', 'jonas', 'kofi', 'lena', 'mateo', 'nora', 'omar', 'priya', 'quinn', 'rosa',
  'sven', 'tara', 'uma', 'vera', 'wei', 'ximena', 'yara', 'zain'];
const LAST = ['smith', 'jones', 'garcia', 'muller', 'rossi', 'tanaka', 'kim', 'nguyen', 'silva', 'novak', 'kowalski',
  'larsen', 'dubois', 'costa', 'ivanova', 'haddad', 'okafor', 'mensah', 'patel', 'singh', 'cohen', 'oconnor', 'walsh',
  'berg', 'fischer', 'weber', 'moreau', 'romero', 'herrera', 'lopez', 'ali', 'khan', 'sato', 'suzuki', 'wang', 'li',
  'zhang', 'chen', 'park', 'lee', 'santos', 'pereira', 'andersen', 'nielsen', 'virtanen', 'horvat', 'popescu', 'papadopoulos'];
const LIFECYCLES = ['production', 'production', 'production', 'experimental', 'deprecated'];
const APP_TYPES = ['service', 'service', 'service', 'website', 'library', 'worker'];

const cap = (w: string) => w[0]!.toUpperCase() + w.slice(1);
const q = (s: string) => JSON.stringify(s);

/** Tokens of `text` as PostgreSQL's default parser splits plain words (our text has no hosts, URLs or numbers with dots). */
export function tokens(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((t) => t.length > 0);
}

// ---- generation ------------------------------------------------------------------------------------

export interface GenerateOptions {
  entities: number;
  seed?: number;
}

/** Shares of the catalog: 0.5% teams, 20% users, 2% systems, the rest (77.5%) applications. */
export function shares(total: number): Record<GenKind, number> {
  const team = Math.max(3, Math.round(total * 0.005));
  const user = Math.round(total * 0.2);
  const system = Math.max(1, Math.round(total * 0.02));
  return { team, user, system, application: total - team - user - system };
}

export function generate({ entities: total, seed = 0x5eed }: GenerateOptions): Dataset {
  const rng = new Rng(seed);
  const vocab = buildVocabulary(new Rng(seed ^ 0xabc), 8000);
  const wordZipf = new Zipf(vocab.length, 0.8);
  const word = () => vocab[wordZipf.draw(rng)]!;
  const counts = shares(total);
  const entities: GeneratedEntity[] = [];
  let relationsDeclared = 0;

  const sentence = (min: number, max: number) => {
    const n = rng.range(min, max);
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      out.push(rng.chance(0.25) ? rng.pick(FILLERS) : word());
      if (i > 0 && i < n - 1 && rng.chance(0.08)) out[out.length - 1] += ',';
    }
    return cap(out.join(' ')) + '.';
  };
  const pickTags = (min: number, max: number) => {
    const n = rng.range(min, max);
    const set = new Set<string>();
    while (set.size < n) set.add(rng.pick(TAGS));
    return [...set];
  };
  const push = (e: Omit<GeneratedEntity, 'searchText'>, title: string, description: string, tags: string[]) => {
    entities.push({ ...e, searchText: [e.name, title, description, tags.join(' ')].join(' ') });
  };

  // Teams: team-1 is the organisation, the next ~5% are departments under it, the rest are teams in departments.
  const teamNames: string[] = [];
  const departments: string[] = [];
  const workingTeams: string[] = [];
  for (let i = 1; i <= counts.team; i++) {
    const name = `team-${i}`;
    teamNames.push(name);
    const type = i === 1 ? 'organization' : i <= 1 + Math.max(1, Math.round(counts.team * 0.05)) ? 'department' : 'team';
    const parent = type === 'organization' ? undefined : type === 'department' ? 'team-1' : rng.pick(departments);
    if (type === 'department') departments.push(name);
    if (type === 'team') workingTeams.push(name);
    const title = type === 'organization' ? 'Acme Corporation' : `${cap(word())} ${cap(word())}${type === 'department' ? ' Department' : ' Team'}`;
    const description = sentence(6, 16);
    const lines = [
      'apiVersion: backstage.io/v1alpha1', 'kind: Group', 'metadata:', `  name: ${name}`, `  title: ${q(title)}`,
      `  description: ${q(description)}`, 'spec:', `  type: ${type}`,
    ];
    if (parent) lines.push(`  parent: ${parent}`);
    lines.push('  children: []', `  profile:`, `    displayName: ${q(title)}`, `    email: ${name}@example.com`);
    if (parent) relationsDeclared++;
    push({ ref: `team:default/${name}`, kind: 'team', name, location: 'org/groups.yaml', yaml: lines.join('\n'), owner: null }, title, description, []);
  }
  if (workingTeams.length === 0) workingTeams.push(...teamNames);

  // Users: members of one or two working teams.
  for (let i = 1; i <= counts.user; i++) {
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    const name = `${first}-${last}-${i}`;
    const display = `${cap(first)} ${cap(last)}`;
    const teams = new Set<string>([rng.pick(workingTeams)]);
    if (rng.chance(0.3)) teams.add(rng.pick(workingTeams));
    relationsDeclared += teams.size;
    const lines = [
      'apiVersion: backstage.io/v1alpha1', 'kind: User', 'metadata:', `  name: ${name}`, 'spec:', '  profile:',
      `    displayName: ${q(display)}`, `    email: ${first}.${last}.${i}@example.com`, `  memberOf: [${[...teams].join(', ')}]`,
    ];
    push({ ref: `user:default/${name}`, kind: 'user', name, location: `org/users-${Math.ceil(i / 1000)}.yaml`, yaml: lines.join('\n'), owner: null }, display, '', []);
  }

  // Systems: owned by working teams.
  const systemsByOwner = new Map<string, string[]>();
  const systems: string[] = [];
  for (let i = 1; i <= counts.system; i++) {
    const w1 = word();
    const w2 = word();
    const name = `${w1}-${w2}-system-${i}`;
    const owner = rng.pick(workingTeams);
    systems.push(name);
    const list = systemsByOwner.get(owner) ?? [];
    list.push(name);
    systemsByOwner.set(owner, list);
    const title = `${cap(w1)} ${cap(w2)} System`;
    const description = sentence(8, 20);
    const tags = pickTags(0, 2);
    relationsDeclared++;
    const lines = [
      'apiVersion: backstage.io/v1alpha1', 'kind: System', 'metadata:', `  name: ${name}`, `  title: ${q(title)}`,
      `  description: ${q(description)}`, `  tags: [${tags.join(', ')}]`, 'spec:', `  owner: ${owner}`,
    ];
    push({ ref: `system:default/${name}`, kind: 'system', name, location: `systems/${name}.yaml`, yaml: lines.join('\n'), owner: `team:default/${owner}` }, title, description, tags);
  }

  // Applications: owners skewed (a few teams own many), mostly in a system of their owner.
  const ownerOrder = rng.shuffle([...workingTeams]);
  const ownerZipf = new Zipf(ownerOrder.length, 0.6);
  const appNames: string[] = [];
  for (let i = 1; i <= counts.application; i++) appNames.push(`${vocab[wordZipf.draw(rng)]}-${vocab[wordZipf.draw(rng)]}-${i}`);
  const appsByOwner = new Map<string, number>();
  for (let i = 0; i < counts.application; i++) {
    const name = appNames[i]!;
    const [w1, w2] = name.split('-') as [string, string];
    const owner = ownerOrder[ownerZipf.draw(rng)]!;
    const ownerRef = `team:default/${owner}`;
    appsByOwner.set(ownerRef, (appsByOwner.get(ownerRef) ?? 0) + 1);
    const own = systemsByOwner.get(owner);
    const system = own && rng.chance(0.8) ? rng.pick(own) : rng.pick(systems);
    const title = `${cap(w1)} ${cap(w2)}`;
    const description = sentence(8, 30);
    const tags = pickTags(1, 4);
    const deps = new Set<string>();
    const nDeps = rng.range(0, 4);
    for (let d = 0; d < nDeps; d++) {
      const other = appNames[rng.int(appNames.length)]!;
      if (other !== name) deps.add(`component:default/${other}`);
    }
    const provides = rng.chance(0.3) ? [`${name}-api`, ...(rng.chance(0.3) ? [`${name}-events`] : [])] : [];
    const consumes = new Set<string>();
    if (rng.chance(0.4)) {
      const n = rng.range(1, 3);
      for (let c = 0; c < n; c++) consumes.add(`${appNames[rng.int(appNames.length)]}-api`);
    }
    relationsDeclared += 2 + deps.size + provides.length + consumes.size;
    const lines = [
      'apiVersion: backstage.io/v1alpha1', 'kind: Component', 'metadata:', `  name: ${name}`, `  title: ${q(title)}`,
      `  description: ${q(description)}`, `  tags: [${tags.join(', ')}]`, '  annotations:',
      `    github.com/project-slug: acme/${name}`, '    backstage.io/techdocs-ref: dir:.', '  links:',
      `    - url: https://git.example.com/acme/${name}`, '      title: Repository', 'spec:',
      `  type: ${rng.pick(APP_TYPES)}`, `  lifecycle: ${rng.pick(LIFECYCLES)}`, `  owner: ${owner}`, `  system: ${system}`,
    ];
    if (deps.size) lines.push(`  dependsOn: [${[...deps].join(', ')}]`);
    if (provides.length) lines.push(`  providesApis: [${provides.join(', ')}]`);
    if (consumes.size) lines.push(`  consumesApis: [${[...consumes].join(', ')}]`);
    push({ ref: `application:default/${name}`, kind: 'application', name, location: `repos/${name}/catalog-info.yaml`, yaml: lines.join('\n'), owner: ownerRef }, title, description, tags);
  }

  let yamlBytes = 0;
  for (const e of entities) yamlBytes += Buffer.byteLength(e.yaml) + 5;
  return { seed, entities, counts, teams: teamNames.map((t) => `team:default/${t}`), appsByOwner, vocab, yamlBytes, relationsDeclared };
}

/** Splits the catalog, in order, into import requests of `size` entities; consecutive documents of one location form one multi-document file. */
export function importBatches(ds: Dataset, size: number): ImportBatch[] {
  const batches: ImportBatch[] = [];
  for (let start = 0; start < ds.entities.length; start += size) {
    const slice = ds.entities.slice(start, start + size);
    const files: ImportFile[] = [];
    let current: { location: string; docs: string[] } | undefined;
    for (const e of slice) {
      if (!current || current.location !== e.location) {
        if (current) files.push({ location: current.location, content: current.docs.join('\n---\n') + '\n' });
        current = { location: e.location, docs: [] };
      }
      current.docs.push(e.yaml);
    }
    if (current) files.push({ location: current.location, content: current.docs.join('\n---\n') + '\n' });
    batches.push({ index: batches.length, entities: slice.length, files });
  }
  return batches;
}

// ---- expected search results -----------------------------------------------------------------------

/** An inverted index over the generated search text, to know how many entities a query should find. */
export class SearchOracle {
  private readonly postings = new Map<string, number[]>();
  private readonly entities: GeneratedEntity[];
  constructor(entities: GeneratedEntity[]) {
    this.entities = entities;
    entities.forEach((e, i) => {
      for (const t of new Set(tokens(e.searchText))) {
        const list = this.postings.get(t);
        if (list) list.push(i);
        else this.postings.set(t, [i]);
      }
    });
  }
  /** Entities matching every word as a prefix of one of their tokens (the server's `word:* & word:*`). */
  matches(query: string): Set<number> {
    let result: Set<number> | undefined;
    for (const w of tokens(query)) {
      const hit = new Set<number>();
      for (const [t, list] of this.postings) if (t.startsWith(w)) for (const i of list) hit.add(i);
      result = result ? new Set([...result].filter((i) => hit.has(i))) : hit;
    }
    return result ?? new Set();
  }
  refsOf(ids: Set<number>): Set<string> {
    return new Set([...ids].map((i) => this.entities[i]!.ref));
  }
}

export type SearchCategory = 'common-word' | 'mid-word' | 'rare-word' | 'prefix' | 'two-words';

/** Varied search queries: one word from the head, middle and tail of the vocabulary, 3-4 letter prefixes, and two-word queries. */
export function searchQueries(ds: Dataset, n: number, seed: number): { q: string; category: SearchCategory }[] {
  const rng = new Rng(seed);
  const head = ds.vocab.slice(0, 30);
  const mid = ds.vocab.slice(30, 400);
  const tail = ds.vocab.slice(400);
  const out: { q: string; category: SearchCategory }[] = [];
  const cats: SearchCategory[] = ['common-word', 'mid-word', 'rare-word', 'prefix', 'two-words'];
  for (let i = 0; i < n; i++) {
    const category = cats[i % cats.length]!;
    switch (category) {
      case 'common-word': out.push({ q: rng.pick(head), category }); break;
      case 'mid-word': out.push({ q: rng.pick(mid), category }); break;
      case 'rare-word': out.push({ q: rng.pick(tail), category }); break;
      case 'prefix': {
        const w = rng.pick(rng.chance(0.5) ? head : mid);
        out.push({ q: w.slice(0, Math.min(w.length, rng.range(3, 4))), category });
        break;
      }
      case 'two-words': {
        const a = rng.pick(rng.chance(0.6) ? head : mid);
        let b = rng.pick(rng.chance(0.5) ? head : mid);
        if (b === a) b = rng.pick(tail);
        out.push({ q: `${a} ${b}`, category });
        break;
      }
    }
  }
  return out;
}
