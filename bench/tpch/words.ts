/**
 * The TPC-H specification's fixed lists (clause 4.2.2.13 and 4.2.3) and the word lists of its
 * comment grammar (the weights are those of dbgen's dists.dss, rounded), used by the generator.
 */
import { mulberry32 } from '../../src/rdd/random.js';

/** The 25 nations as [name, regionkey], indexed by nationkey. */
export const NATIONS: ReadonlyArray<readonly [string, number]> = [
  ['ALGERIA', 0],
  ['ARGENTINA', 1],
  ['BRAZIL', 1],
  ['CANADA', 1],
  ['EGYPT', 4],
  ['ETHIOPIA', 0],
  ['FRANCE', 3],
  ['GERMANY', 3],
  ['INDIA', 2],
  ['INDONESIA', 2],
  ['IRAN', 4],
  ['IRAQ', 4],
  ['JAPAN', 2],
  ['JORDAN', 4],
  ['KENYA', 0],
  ['MOROCCO', 0],
  ['MOZAMBIQUE', 0],
  ['PERU', 1],
  ['CHINA', 2],
  ['ROMANIA', 3],
  ['SAUDI ARABIA', 4],
  ['VIETNAM', 2],
  ['RUSSIA', 3],
  ['UNITED KINGDOM', 3],
  ['UNITED STATES', 1],
];

/** The five regions, indexed by regionkey. */
export const REGIONS: readonly string[] = ['AFRICA', 'AMERICA', 'ASIA', 'EUROPE', 'MIDDLE EAST'];

/** The 92 words P_NAME is made of (five distinct ones per part). */
export const COLORS: readonly string[] = (
  'almond antique aquamarine azure beige bisque black blanched blue blush brown burlywood burnished ' +
  'chartreuse chiffon chocolate coral cornflower cornsilk cream cyan dark deep dim dodger drab ' +
  'firebrick floral forest frosted gainsboro ghost goldenrod green grey honeydew hot indian ivory ' +
  'khaki lace lavender lawn lemon light lime linen magenta maroon medium metallic midnight mint ' +
  'misty moccasin navajo navy olive orange orchid pale papaya peach peru pink plum powder puff ' +
  'purple red rose rosy royal saddle salmon sandy seashell sienna sky slate smoke snow spring steel ' +
  'tan thistle tomato turquoise violet wheat white yellow'
).split(' ');

/** P_TYPE syllables: 6 × 5 × 5 = 150 types. */
export const TYPE_S1: readonly string[] = ['STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO'];
/** Second P_TYPE syllable. */
export const TYPE_S2: readonly string[] = ['ANODIZED', 'BURNISHED', 'PLATED', 'POLISHED', 'BRUSHED'];
/** Third P_TYPE syllable. */
export const TYPE_S3: readonly string[] = ['TIN', 'NICKEL', 'BRASS', 'STEEL', 'COPPER'];
/** P_CONTAINER syllables: 5 × 8 = 40 containers. */
export const CONTAINER_S1: readonly string[] = ['SM', 'LG', 'MED', 'JUMBO', 'WRAP'];
/** Second P_CONTAINER syllable. */
export const CONTAINER_S2: readonly string[] = ['CASE', 'BOX', 'BAG', 'JAR', 'PKG', 'PACK', 'CAN', 'DRUM'];
/** C_MKTSEGMENT values. */
export const SEGMENTS: readonly string[] = ['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD'];
/** O_ORDERPRIORITY values. */
export const PRIORITIES: readonly string[] = ['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'];
/** L_SHIPINSTRUCT values. */
export const INSTRUCTIONS: readonly string[] = [
  'DELIVER IN PERSON',
  'COLLECT COD',
  'NONE',
  'TAKE BACK RETURN',
];
/** L_SHIPMODE values. */
export const MODES: readonly string[] = ['REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB'];

type Weighted = ReadonlyArray<readonly [string, number]>;

const w = (spec: string): Weighted =>
  spec.split('|').map((item) => {
    const [word, weight] = item.split(':');
    return [word!, Number(weight ?? 1)] as const;
  });

const NOUNS = w(
  'packages:40|requests:40|accounts:40|deposits:40|foxes:20|ideas:20|theodolites:20|pinto beans:20|' +
    'instructions:20|dependencies:10|excuses:10|platelets:10|asymptotes:10|courts:5|dolphins:5|' +
    'multipliers|sauternes|warthogs|frets|dinos|attainments|somas|Tiresias|patterns|forges|braids|' +
    'hockey players|frays|warhorses|dugouts|notornis|epitaphs|pearls|tithes|waters|orbits|gifts|' +
    'sheaves|depths|sentiments|decoys|realms|pains|grouches|escapades',
);
const VERBS = w(
  'sleep:20|wake:20|are:20|cajole:20|haggle:20|nag:10|use:10|boost:10|affix:5|detect:5|' +
    'integrate:5|maintain|nod|was|lose|sublate|solve|thrash|promise|engage|hinder|print|x-ray|' +
    'breach|eat|grow|impress|mold|poach|serve|run|dazzle|snooze|doze|unwind|kindle|play|hang|' +
    'believe|doubt',
);
const ADJECTIVES = w(
  'special:20|pending:20|unusual:20|express:20|furious|sly|careful|blithe|quick|fluffy|slow|' +
    'quiet|ruthless|thin|close|dogged|daring|brave|stealthy|permanent|enticing|idle|busy|' +
    'regular:50|final:40|ironic:40|even:30|bold:20|silent:10',
);
const ADVERBS = w(
  'sometimes|always|never|furiously:50|slyly:50|carefully:50|blithely:40|quickly:30|fluffily:20|' +
    'slowly|quietly|ruthlessly|thinly|closely|doggedly|daringly|bravely|stealthily|permanently|' +
    'enticingly|idly|busily|regularly|finally|ironically|evenly|boldly|silently',
);
const PREPOSITIONS = w(
  'about:50|above:50|according to:50|across:50|after:50|against:40|along:40|alongside of:30|' +
    'among:30|around:20|at:10|atop|before|behind|beneath|beside|besides|between|beyond|by|' +
    'despite|during|except|for|from|in place of|inside|instead of|into|near|of|on|outside|over|' +
    'past|since|through|throughout|to|toward|under|until|up|upon|without|with|within',
);
const AUXILIARIES = w(
  'do|may|might|shall|will|would|can|could|should|ought to|must|will have to|shall have to|' +
    'could have to|should have to|must have to|need to|try to',
);
const TERMINATORS = w('.:50|;|:|?|!|--');
const SENTENCES = w('N V T:3|N V P T:3|N V N T:3|N P V N T:1|N P V P T:1');
const NOUN_PHRASES = w('n:10|j n:20|j, j n:10|d j n:50');
const VERB_PHRASES = w('v:30|x v:1|v d:40|x v d:1');

/**
 * A deterministic pool of `size` comment texts, each at least `minChars` long, made of sentences
 * of the specification's grammar (clause 4.2.2.10). Comments are prefixes of pool entries.
 */
export function textPool(size: number, minChars: number, seed: number): string[] {
  const rand = mulberry32(seed);
  const pick = (list: Weighted): string => {
    let total = 0;
    for (const [, weight] of list) total += weight;
    let u = rand() * total;
    for (const [word, weight] of list) {
      u -= weight;
      if (u < 0) return word;
    }
    return list[list.length - 1]![0];
  };
  const nounPhrase = (): string =>
    pick(NOUN_PHRASES)
      .split(' ')
      .map((t) =>
        t === 'n'
          ? pick(NOUNS)
          : t === 'j'
            ? pick(ADJECTIVES)
            : t === 'j,'
              ? `${pick(ADJECTIVES)},`
              : pick(ADVERBS),
      )
      .join(' ');
  const verbPhrase = (): string =>
    pick(VERB_PHRASES)
      .split(' ')
      .map((t) => (t === 'v' ? pick(VERBS) : t === 'x' ? pick(AUXILIARIES) : pick(ADVERBS)))
      .join(' ');
  const sentence = (): string => {
    let s = '';
    for (const t of pick(SENTENCES).split(' ')) {
      if (t === 'T') s += pick(TERMINATORS);
      else {
        const part =
          t === 'N' ? nounPhrase() : t === 'V' ? verbPhrase() : `${pick(PREPOSITIONS)} the ${nounPhrase()}`;
        s += s === '' ? part : ` ${part}`;
      }
    }
    return s;
  };
  const pool: string[] = [];
  for (let i = 0; i < size; i++) {
    let text = sentence();
    while (text.length < minChars) text += ` ${sentence()}`;
    pool.push(text);
  }
  return pool;
}
