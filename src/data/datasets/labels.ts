/**
 * Label schemes: which native classes of which datasets make up a task's
 * classes, and the micro <- macro label maps that L_con needs.
 *
 * Class names are lower case. Native labels are matched case-insensitively
 * (SAMM writes `Anger`, CASME II `anger`).
 */
import { type DatasetName, type Problem, type RawClip, type SourceName, isComposite, sourcesOf } from './types.js';

/** Native classes of each dataset, lower case, in the order the dataset documents them. */
export const NATIVE_LABELS: Readonly<Record<SourceName, readonly string[]>> = {
  casme2: ['happiness', 'surprise', 'disgust', 'repression', 'fear', 'sadness', 'others'],
  samm: ['anger', 'contempt', 'disgust', 'fear', 'happiness', 'sadness', 'surprise', 'other'],
  smic: ['negative', 'positive', 'surprise'],
  ckplus: ['anger', 'contempt', 'disgust', 'fear', 'happiness', 'sadness', 'surprise'],
  mmi: ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise'],
  casme3: ['happy', 'disgust', 'fear', 'anger', 'sad', 'surprise', 'others'],
  '4dme': ['positive', 'negative', 'surprise', 'repression', 'others'],
};

/** Other spellings of native classes that copies of a dataset are known to use. */
const NATIVE_ALIASES: Readonly<Partial<Record<SourceName, Readonly<Record<string, string>>>>> = {
  casme3: { happiness: 'happy', sadness: 'sad', other: 'others' },
  '4dme': { other: 'others' },
};

/** Datasets whose rows may carry two classes joined by `+` (4DME: `Negative+Surprise`). */
const COMPOUND_LABELS: ReadonlySet<SourceName> = new Set(['4dme']);

/**
 * A native label as the label tables key it: lower case, known aliases folded
 * onto the dataset's own spelling, and for 4DME a compound `A+B` of two or more
 * native classes written without spaces. Null when the dataset has no such class.
 */
export function nativeKey(dataset: SourceName, label: string): string | null {
  const one = (l: string): string | null => {
    const k = l.trim().toLowerCase();
    const n = NATIVE_ALIASES[dataset]?.[k] ?? k;
    return NATIVE_LABELS[dataset].includes(n) ? n : null;
  };
  if (!COMPOUND_LABELS.has(dataset) || !label.includes('+')) return one(label);
  const parts = label.split('+').map(one);
  return parts.length >= 2 && parts.every((p) => p !== null) ? parts.join('+') : null;
}

export function isNativeLabel(dataset: SourceName, label: string): boolean {
  return nativeKey(dataset, label) !== null;
}

/** CK+ emotion codes (the number in `*_emotion.txt`); 0 (neutral) is not a class. */
export const CKPLUS_EMOTION_CODES: Readonly<Record<number, string>> = {
  0: 'neutral',
  1: 'anger',
  2: 'contempt',
  3: 'disgust',
  4: 'fear',
  5: 'happiness',
  6: 'sadness',
  7: 'surprise',
};

export interface LabelScheme {
  /** Name used on the command line (`--scheme`). */
  name: string;
  /** The dataset (reader) the scheme applies to; `composite` for any list of the sources in `classes`. */
  dataset: DatasetName | 'composite';
  description: string;
  /** Class names; a prepared clip's label indexes this list. */
  labels: readonly string[];
  /** For each source dataset: native label (as `nativeKey` writes it) -> class name. Native labels not listed are left out. */
  classes: Readonly<Partial<Record<SourceName, Readonly<Record<string, string>>>>>;
  /** For each source dataset: subjects left out whole. */
  excludeSubjects?: Readonly<Partial<Record<SourceName, readonly string[]>>>;
}

function identity(labels: readonly string[]): Record<string, string> {
  return Object.fromEntries(labels.map((l) => [l, l]));
}

const MEGC_NEGATIVE = ['anger', 'contempt', 'disgust', 'fear', 'sadness'];

/**
 * The MEGC three classes (negative, positive, surprise) from each micro
 * source's native classes. MEGC 2019 defined the map for SMIC, CASME II and
 * SAMM; CAS(ME)^3 and 4DME follow the same valence rule (see docs/datasets.md
 * for the sources and what is left out).
 */
export const MEGC_THREE_CLASS: Readonly<Record<'smic' | 'casme2' | 'samm' | 'casme3' | '4dme', Readonly<Record<string, string>>>> = {
  smic: identity(['negative', 'positive', 'surprise']),
  casme2: { disgust: 'negative', repression: 'negative', happiness: 'positive', surprise: 'surprise' },
  samm: { ...Object.fromEntries(MEGC_NEGATIVE.map((l) => [l, 'negative'])), happiness: 'positive', surprise: 'surprise' },
  casme3: { disgust: 'negative', fear: 'negative', anger: 'negative', sad: 'negative', happy: 'positive', surprise: 'surprise' },
  '4dme': { negative: 'negative', repression: 'negative', positive: 'positive', surprise: 'surprise' },
};

/** The subjects the MEGC 2019 list leaves out; none of them has a clip in the three classes. */
const MEGC2019_EXCLUDED_SUBJECTS = {
  casme2: ['sub10', 'sub18'],
  smic: ['s07', 's10', 's16', 's17'],
  samm: ['008', '025', '027', '029'],
} as const;

/** CAS(ME)^3's seven classes under the names the other datasets use. */
const CASME3_CLASS_NAMES: Readonly<Record<string, string>> = { happy: 'happiness', sad: 'sadness' };
const CASME3_7 = NATIVE_LABELS.casme3.map((l) => CASME3_CLASS_NAMES[l] ?? l);

export const LABEL_SCHEMES: Readonly<Record<string, LabelScheme>> = {
  'casme2-5': {
    name: 'casme2-5',
    dataset: 'casme2',
    description: 'CASME II 5 classes (happiness, disgust, repression, surprise, others); fear and sadness left out',
    labels: ['happiness', 'disgust', 'repression', 'surprise', 'others'],
    classes: { casme2: identity(['happiness', 'disgust', 'repression', 'surprise', 'others']) },
  },
  'casme2-7': {
    name: 'casme2-7',
    dataset: 'casme2',
    description: 'CASME II, all 7 native classes',
    labels: NATIVE_LABELS.casme2,
    classes: { casme2: identity(NATIVE_LABELS.casme2) },
  },
  'samm-5': {
    name: 'samm-5',
    dataset: 'samm',
    description: 'SAMM 5 classes (anger, contempt, happiness, surprise, other); disgust, fear and sadness left out',
    labels: ['anger', 'contempt', 'happiness', 'surprise', 'other'],
    classes: { samm: identity(['anger', 'contempt', 'happiness', 'surprise', 'other']) },
  },
  'samm-8': {
    name: 'samm-8',
    dataset: 'samm',
    description: 'SAMM, all 8 native classes',
    labels: NATIVE_LABELS.samm,
    classes: { samm: identity(NATIVE_LABELS.samm) },
  },
  'smic-3': {
    name: 'smic-3',
    dataset: 'smic',
    description: 'SMIC-HS 3 classes (negative, positive, surprise)',
    labels: NATIVE_LABELS.smic,
    classes: { smic: identity(NATIVE_LABELS.smic) },
  },
  megc2019: {
    name: 'megc2019',
    dataset: 'megc2019',
    description:
      'MEGC 2019 composite (CDE): negative/positive/surprise over SMIC-HS, CASME II and SAMM; CASME II fear, sadness, others and SAMM other left out; 68 subjects',
    labels: ['negative', 'positive', 'surprise'],
    classes: { smic: MEGC_THREE_CLASS.smic, casme2: MEGC_THREE_CLASS.casme2, samm: MEGC_THREE_CLASS.samm },
    excludeSubjects: MEGC2019_EXCLUDED_SUBJECTS,
  },
  'megc-3': {
    name: 'megc-3',
    dataset: 'composite',
    description:
      'MEGC three classes (negative, positive, surprise) over any list of SMIC-HS, CASME II, SAMM, CAS(ME)^3 and 4DME; classes outside the three left out, and the subjects the MEGC 2019 list leaves out',
    labels: ['negative', 'positive', 'surprise'],
    classes: MEGC_THREE_CLASS,
    excludeSubjects: MEGC2019_EXCLUDED_SUBJECTS,
  },
  'casme3-7': {
    name: 'casme3-7',
    dataset: 'casme3',
    description: 'CAS(ME)^3 part A, all 7 native classes (happy and sad named happiness and sadness)',
    labels: CASME3_7,
    classes: { casme3: Object.fromEntries(NATIVE_LABELS.casme3.map((l) => [l, CASME3_CLASS_NAMES[l] ?? l])) },
  },
  'casme3-4': {
    name: 'casme3-4',
    dataset: 'casme3',
    description: 'CAS(ME)^3 part A, 4 classes: negative (disgust, fear, anger, sad), positive (happy), surprise, others',
    labels: ['negative', 'positive', 'surprise', 'others'],
    classes: { casme3: { ...MEGC_THREE_CLASS.casme3, others: 'others' } },
  },
  'casme3-3': {
    name: 'casme3-3',
    dataset: 'casme3',
    description: 'CAS(ME)^3 part A, the MEGC 3 classes: negative (disgust, fear, anger, sad), positive (happy), surprise; others left out',
    labels: ['negative', 'positive', 'surprise'],
    classes: { casme3: MEGC_THREE_CLASS.casme3 },
  },
  '4dme-5': {
    name: '4dme-5',
    dataset: '4dme',
    description: '4DME, its 5 classes (positive, negative, surprise, repression, others); rows with two classes (A+B) left out',
    labels: NATIVE_LABELS['4dme'],
    classes: { '4dme': identity(NATIVE_LABELS['4dme']) },
  },
  '4dme-3': {
    name: '4dme-3',
    dataset: '4dme',
    description: '4DME, the MEGC 3 classes: negative (negative, repression), positive, surprise; others and rows with two classes left out',
    labels: ['negative', 'positive', 'surprise'],
    classes: { '4dme': MEGC_THREE_CLASS['4dme'] },
  },
  'ckplus-7': {
    name: 'ckplus-7',
    dataset: 'ckplus',
    description: 'CK+ 7 emotions of the labelled sequences (neutral is not a class)',
    labels: NATIVE_LABELS.ckplus,
    classes: { ckplus: identity(NATIVE_LABELS.ckplus) },
  },
  'mmi-6': {
    name: 'mmi-6',
    dataset: 'mmi',
    description: 'MMI 6 basic emotions',
    labels: NATIVE_LABELS.mmi,
    classes: { mmi: identity(NATIVE_LABELS.mmi) },
  },
};

/** The scheme used when none is named. */
export const DEFAULT_SCHEMES: Readonly<Record<SourceName | 'megc2019' | 'composite', string>> = {
  casme2: 'casme2-5',
  samm: 'samm-5',
  smic: 'smic-3',
  megc2019: 'megc2019',
  ckplus: 'ckplus-7',
  mmi: 'mmi-6',
  casme3: 'casme3-7',
  '4dme': '4dme-5',
  composite: 'megc-3',
};

/** Which schemes fit a dataset: its own, or for a composite the composite schemes. */
function schemeTarget(dataset: DatasetName): DatasetName | 'composite' {
  return dataset !== 'megc2019' && isComposite(dataset) ? 'composite' : dataset;
}

/** The named scheme (or the dataset's default); throws naming the choices for an unknown or mismatched one. */
export function getLabelScheme(dataset: DatasetName, name?: string): LabelScheme {
  const target = schemeTarget(dataset);
  const key = name ?? DEFAULT_SCHEMES[target as keyof typeof DEFAULT_SCHEMES];
  const scheme = LABEL_SCHEMES[key];
  const fits = Object.values(LABEL_SCHEMES)
    .filter((s) => s.dataset === target)
    .map((s) => s.name);
  if (!scheme) throw new Error(`unknown label scheme ${JSON.stringify(key)} for ${dataset}; choose one of ${fits.join(', ')}`);
  if (scheme.dataset !== target) {
    const what = scheme.dataset === 'composite' ? 'a list of micro datasets' : scheme.dataset;
    throw new Error(`label scheme ${JSON.stringify(key)} is for ${what}, not ${dataset}; choose one of ${fits.join(', ')}`);
  }
  const uncovered = sourcesOf(dataset).filter((s) => !scheme.classes[s]);
  if (target === 'composite' && uncovered.length > 0) throw new Error(`label scheme ${scheme.name} has no classes for ${uncovered.join(', ')}`);
  return scheme;
}

/** Lower case, trimmed; common adjective forms folded onto the noun class names. */
export function normalizeLabel(label: string): string {
  const l = label.trim().toLowerCase();
  return LABEL_SYNONYMS[l] ?? l;
}

const LABEL_SYNONYMS: Readonly<Record<string, string>> = {
  happy: 'happiness',
  happiness: 'happiness',
  sad: 'sadness',
  angry: 'anger',
  surprised: 'surprise',
  disgusted: 'disgust',
  fearful: 'fear',
  afraid: 'fear',
  scared: 'fear',
  contemptuous: 'contempt',
};

/** A clip with its class index under a scheme. */
export interface LabelledClip {
  clip: RawClip;
  /** Index into `scheme.labels`. */
  label: number;
}

/**
 * Applies a scheme to read clips: keeps the clips whose native class maps to
 * one of the scheme's classes and whose subject is not excluded; every clip
 * left out gets a problem line (`excluded` by design, `error` for a label the
 * dataset does not have).
 */
export function applyLabelScheme(scheme: LabelScheme, clips: readonly RawClip[], reportAs?: DatasetName): { kept: LabelledClip[]; problems: Problem[] } {
  const kept: LabelledClip[] = [];
  const problems: Problem[] = [];
  const composite = reportAs ?? (scheme.dataset === 'megc2019' ? 'megc2019' : undefined);
  for (const clip of clips) {
    const dataset = composite ?? clip.dataset;
    const ref = composite ? `${clip.dataset}/${clip.id}` : clip.id;
    const table = scheme.classes[clip.dataset];
    if (!table) {
      problems.push({ dataset, kind: 'error', clip: ref, problem: `source ${clip.dataset} is not part of label scheme ${scheme.name}` });
      continue;
    }
    const excluded = scheme.excludeSubjects?.[clip.dataset];
    if (excluded?.includes(clip.subject)) {
      problems.push({ dataset, kind: 'excluded', clip: ref, problem: `subject ${clip.subject} is left out by label scheme ${scheme.name}` });
      continue;
    }
    const native = nativeKey(clip.dataset, clip.label);
    if (native === null) {
      problems.push({ dataset, kind: 'error', clip: ref, problem: `unknown label ${JSON.stringify(clip.label)}; ${clip.dataset} has ${NATIVE_LABELS[clip.dataset].join(', ')}` });
      continue;
    }
    const cls = table[native];
    if (cls === undefined) {
      problems.push({ dataset, kind: 'excluded', clip: ref, problem: `class ${JSON.stringify(clip.label)} is not in label scheme ${scheme.name}` });
      continue;
    }
    const label = scheme.labels.indexOf(cls);
    if (label < 0) throw new Error(`label scheme ${scheme.name}: maps ${native} to ${cls}, which is not among its labels`);
    kept.push({ clip, label });
  }
  return { kept, problems };
}

// ---------------------------------------------------------------------------
// Micro <- macro label maps for L_con

/**
 * For each micro class of a task: the macro classes that count as the same
 * expression. A micro class with an empty list has no macro counterpart; its
 * macro "positives" are none, and every macro sample is a negative for it.
 */
export const MICRO_FROM_MACRO: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  megc2019: { negative: MEGC_NEGATIVE, positive: ['happiness'], surprise: ['surprise'] },
  'smic-3': { negative: MEGC_NEGATIVE, positive: ['happiness'], surprise: ['surprise'] },
  'casme2-5': { happiness: ['happiness'], disgust: ['disgust'], surprise: ['surprise'], repression: [], others: [] },
  'samm-5': { anger: ['anger'], contempt: ['contempt'], happiness: ['happiness'], surprise: ['surprise'], other: [] },
  // every native class: the basic emotions pair with themselves, the rest have no macro counterpart
  'casme2-7': { happiness: ['happiness'], disgust: ['disgust'], surprise: ['surprise'], fear: ['fear'], sadness: ['sadness'], repression: [], others: [] },
  'samm-8': { anger: ['anger'], contempt: ['contempt'], disgust: ['disgust'], fear: ['fear'], happiness: ['happiness'], sadness: ['sadness'], surprise: ['surprise'], other: [] },
  'megc-3': { negative: MEGC_NEGATIVE, positive: ['happiness'], surprise: ['surprise'] },
  'casme3-7': { happiness: ['happiness'], disgust: ['disgust'], fear: ['fear'], anger: ['anger'], sadness: ['sadness'], surprise: ['surprise'], others: [] },
  'casme3-4': { negative: MEGC_NEGATIVE, positive: ['happiness'], surprise: ['surprise'], others: [] },
  'casme3-3': { negative: MEGC_NEGATIVE, positive: ['happiness'], surprise: ['surprise'] },
  // 4DME's own negative class pairs with every negative-valence macro class; repression has no macro counterpart
  '4dme-5': { positive: ['happiness'], negative: MEGC_NEGATIVE, surprise: ['surprise'], repression: [], others: [] },
  '4dme-3': { negative: MEGC_NEGATIVE, positive: ['happiness'], surprise: ['surprise'] },
};

/**
 * The macro -> micro class map L_con uses: `result[m]` is the index in
 * `microLabels` of macro class `macroLabels[m]`, or -1 when the macro class has
 * no micro counterpart.
 *
 * `scheme` names the micro task's map (`megc2019`, `smic-3`, `casme2-5`,
 * `samm-5`, or a dataset name for its default scheme), or `identity` to pair
 * classes of the same name (synthetic data). Every micro label must belong to
 * the map; macro labels are matched after `normalizeLabel` (`happy` ->
 * `happiness`), and unknown ones (e.g. `neutral`) map to -1.
 */
export function macroToMicroMap(microLabels: readonly string[], macroLabels: readonly string[], scheme: string | LabelScheme): number[] {
  const name = typeof scheme === 'string' ? scheme : scheme.name;
  const micro = microLabels.map(normalizeLabel);
  const macro = macroLabels.map(normalizeLabel);
  if (new Set(micro).size !== micro.length) throw new Error(`macroToMicroMap: duplicate micro labels in ${JSON.stringify(microLabels)}`);
  if (name === 'identity') return macro.map((m) => micro.indexOf(m));
  const key = MICRO_FROM_MACRO[name] ? name : (DEFAULT_SCHEMES as Record<string, string>)[name];
  const table = key ? MICRO_FROM_MACRO[key] : undefined;
  if (!table) {
    throw new Error(`macroToMicroMap: no micro <- macro map for scheme ${JSON.stringify(name)}; known: ${[...Object.keys(MICRO_FROM_MACRO), 'identity'].join(', ')}`);
  }
  micro.forEach((m, i) => {
    if (!(m in table)) throw new Error(`macroToMicroMap: micro label ${JSON.stringify(microLabels[i])} is not a class of scheme ${key} (${Object.keys(table).join(', ')})`);
  });
  return macro.map((m) => micro.findIndex((u) => table[u]!.includes(m)));
}
