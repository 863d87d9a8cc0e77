/**
 * The procedural face model of the synthetic data: FACS action units (AU),
 * emotion prototypes, per-subject identities, AU-driven face geometry and the
 * drawing of a face onto a canvas (./raster.ts).
 */
import type { Rng } from '../../util/rng.js';
import { type Rgb, Canvas, blob, clamp01, fillEllipse, overlap, strokePolyline } from './raster.js';

export type { Rgb } from './raster.js';

// ---------------------------------------------------------------------------
// Action units and emotion prototypes
// ---------------------------------------------------------------------------

/**
 * The FACS action units the face model can move. AU14 is drawn on one side
 * only (the side is a per-clip choice), which makes contempt asymmetric.
 */
export const ACTION_UNITS = [
  'AU1', // inner brow raiser
  'AU2', // outer brow raiser
  'AU4', // brow lowerer
  'AU5', // upper lid raiser
  'AU6', // cheek raiser
  'AU7', // lid tightener
  'AU9', // nose wrinkler
  'AU10', // upper lip raiser
  'AU12', // lip corner puller
  'AU14', // dimpler (unilateral here)
  'AU15', // lip corner depressor
  'AU20', // lip stretcher
  'AU23', // lip tightener
  'AU25', // lips part
  'AU26', // jaw drop
] as const;
export type ActionUnit = (typeof ACTION_UNITS)[number];
export type AuVector = Record<ActionUnit, number>;

export function zeroAus(): AuVector {
  const v = {} as AuVector;
  for (const au of ACTION_UNITS) v[au] = 0;
  return v;
}

/** The emotions the generator can pose: the seven CK+ classes. */
export const EMOTIONS = ['anger', 'contempt', 'disgust', 'fear', 'happiness', 'sadness', 'surprise'] as const;
export type Emotion = (typeof EMOTIONS)[number];

/**
 * Apex AU weights per emotion (1 = the AU's full macro amplitude), after the
 * usual EMFACS prototypes. The first listed AU of each emotion is its primary
 * one and is never dropped by per-clip variation.
 */
export const EMOTION_PROTOTYPES: Record<Emotion, Partial<AuVector>> = {
  anger: { AU4: 1.0, AU7: 0.7, AU23: 0.8, AU5: 0.4 },
  contempt: { AU14: 1.0, AU12: 0.15 },
  disgust: { AU9: 1.0, AU10: 0.8, AU4: 0.35, AU15: 0.3, AU25: 0.2 },
  fear: { AU5: 1.0, AU1: 0.9, AU2: 0.6, AU4: 0.5, AU20: 0.8, AU25: 0.5, AU26: 0.3 },
  happiness: { AU12: 1.0, AU6: 0.8, AU25: 0.3 },
  sadness: { AU15: 1.0, AU1: 0.9, AU4: 0.5 },
  surprise: { AU26: 1.0, AU1: 1.0, AU2: 1.0, AU5: 0.8, AU25: 0.4 },
};

// ---------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------

/** Everything about a subject that stays fixed across their clips. Lengths are in face coordinates. */
export interface FaceIdentity {
  headCy: number;
  headRx: number;
  /** Upper half-height of the head; the lower half is headRy * jaw. */
  headRy: number;
  jaw: number;
  skin: Rgb;
  hair: Rgb;
  iris: Rgb;
  lips: Rgb;
  /** Radial darkening of the head towards its outline (fake 3-D shading). */
  shading: number;
  /** Top of the forehead at the centre line and how far the hairline drops at the temples. */
  hairY: number;
  hairDrop: number;
  /** Lowest y reached by the hair behind the head (short vs long hair). */
  hairBottom: number;
  eyeY: number;
  eyeDx: number;
  eyeW: number;
  eyeHu: number;
  eyeHl: number;
  browY: number;
  browInner: number;
  browOuter: number;
  browArch: number;
  browThick: number;
  noseY: number;
  noseW: number;
  mouthY: number;
  mouthW: number;
  lipU: number;
  lipL: number;
  /** Value-noise skin texture: a TEX x TEX grid over the face box, and its amplitude. */
  texture: Float32Array;
  textureAmp: number;
  /** Small dark spots (moles, freckles): x, y, radius, strength. */
  spots: Array<[number, number, number, number]>;
  /** Beard/stubble shadow strength (0 for most subjects). */
  beard: number;
  /** Per-subject gain on each AU: people move the same muscles by different amounts. */
  auGain: AuVector;
  /** Overall expressiveness of the subject. */
  expressiveness: number;
}

export const TEX = 8;

/** Reference (mean) positions of the facial features, in face coordinates; subjects vary around them. */
export const FACE_LAYOUT = {
  browY: -0.32,
  eyeY: -0.17,
  eyeDx: 0.28,
  noseY: 0.15,
  mouthY: 0.39,
  mouthW: 0.21,
  cheekY: 0.1,
} as const;

export function sampleIdentity(rng: Rng): FaceIdentity {
  const lightness = rng.range(0.32, 0.9);
  const warm = rng.range(-0.04, 0.04);
  const skin: Rgb = [
    clamp01(lightness * 1.0 + 0.07 + warm),
    clamp01(lightness * 0.8 + 0.02),
    clamp01(lightness * 0.66 - warm),
  ];
  const hairKind = rng.next();
  const hairL = hairKind < 0.65 ? rng.range(0.05, 0.25) : hairKind < 0.9 ? rng.range(0.3, 0.55) : rng.range(0.6, 0.8);
  const hair: Rgb =
    hairKind < 0.9
      ? [hairL * 1.15, hairL * 0.95, hairL * 0.75]
      : [hairL, hairL, hairL * 0.97]; // grey hair
  const irisKind = rng.int(4);
  const iris: Rgb = [
    [0.3, 0.18, 0.1],
    [0.15, 0.1, 0.07],
    [0.3, 0.42, 0.55],
    [0.3, 0.4, 0.25],
  ][irisKind] as Rgb;
  const lips: Rgb = [skin[0] * 0.85, skin[1] * 0.58, skin[2] * 0.6];

  const eyeY = rng.range(-0.22, -0.12);
  const eyeDx = rng.range(0.24, 0.31);
  const eyeW = rng.range(0.1, 0.135);
  const noseY = rng.range(0.1, 0.2);
  const texture = new Float32Array(TEX * TEX);
  for (let i = 0; i < texture.length; i++) texture[i] = rng.range(-1, 1);
  const spots: Array<[number, number, number, number]> = [];
  const nMoles = rng.int(3);
  for (let i = 0; i < nMoles; i++) spots.push([rng.range(-0.5, 0.5), rng.range(-0.4, 0.6), rng.range(0.012, 0.025), rng.range(0.4, 0.7)]);
  if (rng.next() < 0.3) {
    const nFreckles = 8 + rng.int(14);
    for (let i = 0; i < nFreckles; i++) {
      const side = rng.next() < 0.5 ? -1 : 1;
      spots.push([side * rng.range(0.08, 0.45), rng.range(-0.05, 0.2), rng.range(0.01, 0.018), rng.range(0.15, 0.35)]);
    }
  }
  const auGain = zeroAus();
  for (const au of ACTION_UNITS) auGain[au] = rng.range(0.8, 1.2);

  return {
    headCy: rng.range(-0.02, 0.06),
    headRx: rng.range(0.62, 0.76),
    headRy: rng.range(0.8, 0.9),
    jaw: rng.range(0.95, 1.08),
    skin,
    hair,
    iris,
    lips,
    shading: rng.range(0.1, 0.25),
    hairY: rng.range(-0.72, -0.52),
    hairDrop: rng.range(0.1, 0.3),
    hairBottom: rng.range(-0.2, 0.7),
    eyeY,
    eyeDx,
    eyeW,
    eyeHu: rng.range(0.045, 0.065),
    eyeHl: rng.range(0.028, 0.042),
    browY: eyeY - rng.range(0.12, 0.17),
    browInner: rng.range(0.07, 0.13),
    browOuter: eyeDx + eyeW + rng.range(0.0, 0.06),
    browArch: rng.range(0.01, 0.05),
    browThick: rng.range(0.028, 0.05),
    noseY,
    noseW: rng.range(0.05, 0.08),
    mouthY: noseY + rng.range(0.2, 0.27),
    mouthW: rng.range(0.17, 0.25),
    lipU: rng.range(0.02, 0.035),
    lipL: rng.range(0.028, 0.048),
    texture,
    textureAmp: rng.range(0.02, 0.07),
    spots,
    beard: rng.next() < 0.2 ? rng.range(0.15, 0.4) : 0,
    auGain,
    expressiveness: rng.range(0.8, 1.2),
  };
}

// ---------------------------------------------------------------------------
// AU -> geometry
// ---------------------------------------------------------------------------

/** Feature geometry of one frame, derived from the identity and the current AU activations. */
export interface FaceGeometry {
  chinRy: number;
  /** Brow polyline per side (inner, mid, outer points); side 0 is the subject's right (image left). */
  brows: Array<[number, number, number, number, number, number]>;
  eyeHu: number;
  eyeHl: number;
  eyeY: number;
  mouthL: [number, number];
  mouthR: [number, number];
  /** Offsets of the four lip curves at the mouth centre (negative = up). */
  upperOuter: number;
  upperInner: number;
  lowerInner: number;
  lowerOuter: number;
  nostrilY: number;
  nostrilW: number;
  cheekY: number;
  foreheadWrinkle: number;
  glabellaFurrow: number;
  noseWrinkle: number;
  crowsFeet: number;
  nasolabial: number;
  dimple: number;
  /** Side of the unilateral AU14 (-1 image left, +1 image right). */
  dimpleSide: number;
}

/**
 * Maps AU activations (1 = full macro amplitude) to feature displacements.
 * Amplitudes are in face coordinates (2 units = frame width), chosen so a full
 * expression moves features by a few pixels at 32x32, like a posed CK+ face.
 * `blink` in [0, 1] closes the eyelids (a blink, AU45; 1 = shut); it is kept
 * out of the AU vector so that the clip sets' AU draws stay as they are.
 */
export function faceGeometry(id: FaceIdentity, a: AuVector, side: number, blink = 0): FaceGeometry {
  const brows: FaceGeometry['brows'] = [];
  for (const s of [-1, 1]) {
    const innerUp = 0.09 * a.AU1 - 0.06 * a.AU4 - 0.02 * a.AU9;
    const midUp = 0.02 * a.AU1 + 0.065 * a.AU2 - 0.035 * a.AU4;
    const outerUp = 0.08 * a.AU2 - 0.01 * a.AU4;
    const innerX = id.browInner - 0.035 * a.AU4;
    const midX = (id.browInner + id.browOuter) / 2 - 0.01 * a.AU4;
    brows.push([
      s * innerX,
      id.browY - innerUp,
      s * midX,
      id.browY - id.browArch - midUp,
      s * id.browOuter,
      id.browY + 0.01 - outerUp,
    ]);
  }

  const cornerUp = 0.09 * a.AU12 - 0.07 * a.AU15 - 0.01 * a.AU20 + 0.02 * a.AU10;
  const cornerOut = 0.05 * a.AU12 + 0.07 * a.AU20 - 0.04 * a.AU23 + 0.01 * a.AU15;
  const jawDrop = 0.11 * a.AU26;
  // AU14 pulls one corner back (outwards) and slightly up.
  const dL = side < 0 ? a.AU14 : 0;
  const dR = side > 0 ? a.AU14 : 0;
  const midCornerY = id.mouthY + 0.25 * jawDrop;
  const mouthL: [number, number] = [-(id.mouthW + cornerOut + 0.045 * dL), midCornerY - cornerUp - 0.025 * dL];
  const mouthR: [number, number] = [id.mouthW + cornerOut + 0.045 * dR, midCornerY - cornerUp - 0.025 * dR];
  const thin = Math.max(0.25, 1 - 0.55 * a.AU23 - 0.3 * a.AU20);
  const open = 0.035 * a.AU25 + 0.1 * a.AU26;
  const upperRaise = 0.045 * a.AU10 + 0.015 * a.AU9;
  // Lip curves are offsets from the corner-to-corner line; the lip centre lags the corners, so
  // lifting them (AU12) bends the mouth into a smile and lowering them (AU15) into a frown.
  const upperInner = -open * 0.35 - upperRaise + cornerUp * 0.6;
  const lowerInner = open * 0.65 + jawDrop * 0.2 + cornerUp * 0.6;

  return {
    chinRy: id.headRy * id.jaw + 0.05 * a.AU26,
    brows,
    // the upper lid does most of a blink's travel; x * (1 - 0) leaves the open eye exactly as it was
    eyeHu: id.eyeHu * Math.max(0.15, 1 + 0.65 * a.AU5 - 0.2 * a.AU7 - 0.1 * a.AU4 - 0.1 * a.AU6) * (1 - 0.95 * blink),
    eyeHl: id.eyeHl * Math.max(0.1, 1 - 0.45 * a.AU6 - 0.5 * a.AU7 + 0.15 * a.AU5) * (1 - 0.6 * blink),
    eyeY: id.eyeY - 0.008 * a.AU6,
    mouthL,
    mouthR,
    upperOuter: upperInner - id.lipU * thin,
    upperInner,
    lowerInner,
    lowerOuter: lowerInner + id.lipL * thin,
    nostrilY: id.noseY - 0.03 * a.AU9 - 0.015 * a.AU10,
    nostrilW: id.noseW * (1 + 0.2 * a.AU9),
    cheekY: id.eyeY + 0.27 - 0.05 * a.AU6 - 0.025 * a.AU12,
    foreheadWrinkle: clamp01(0.6 * (a.AU1 + a.AU2) / 2 + 0.2 * a.AU1),
    glabellaFurrow: clamp01(0.7 * a.AU4 + 0.2 * a.AU9),
    noseWrinkle: clamp01(0.8 * a.AU9),
    crowsFeet: clamp01(0.6 * a.AU6),
    nasolabial: clamp01(0.12 + 0.45 * a.AU12 + 0.45 * a.AU10 + 0.3 * a.AU9),
    dimple: clamp01(0.6 * a.AU14),
    dimpleSide: side,
  };
}

// ---------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------

/** Lens-shaped profile used by lip curves: 0 at the corners, 1 at the centre. */
function lipProfile(t: number): number {
  const v = 4 * t * (1 - t);
  return v > 0 ? Math.sqrt(v) * 0.5 + v * 0.5 : 0;
}

/**
 * Band between two curves that meet at the corners L and R:
 * y(t) = lerp(L.y, R.y, t) + off * profile(t), for offsets `top` < `bot`.
 */
function fillLipBand(cv: Canvas, L: [number, number], R: [number, number], top: number, bot: number, c: Rgb, alpha: number): void {
  if (bot <= top || alpha <= 0) return;
  const col = cv.colour(c);
  const pw = cv.pw;
  const [i0, i1, j0, j1] = cv.box(L[0], Math.min(L[1], R[1]) + Math.min(0, top), R[0], Math.max(L[1], R[1]) + Math.max(0, bot));
  const w = R[0] - L[0];
  for (let i = i0; i < i1; i++) {
    const qx = cv.qx(i);
    const hx = overlap(qx, L[0], R[0], pw);
    if (hx <= 0) continue;
    const t = clamp01((qx - L[0]) / w);
    const base = L[1] + (R[1] - L[1]) * t;
    const p = lipProfile(t);
    const yTop = base + top * p;
    const yBot = base + bot * p;
    for (let j = j0; j < j1; j++) {
      const cov = overlap(cv.qy(j), yTop, yBot, pw) * hx;
      if (cov > 0) cv.blend(j * cv.size + i, col, cov * alpha);
    }
  }
}

/** Almond eye: sclera between an upper and a lower elliptic arc, the iris clipped to it, and the lid line. */
function drawEye(cv: Canvas, id: FaceIdentity, g: FaceGeometry, cx: number): void {
  const pw = cv.pw;
  const w = id.eyeW;
  const cy = g.eyeY;
  const sclera = cv.colour([0.88, 0.86, 0.84]);
  const iris = cv.colour(id.iris);
  const lid = cv.colour([id.hair[0] * 0.5, id.hair[1] * 0.5, id.hair[2] * 0.5]);
  const lidT = 0.016;
  const irisR = Math.min(0.6 * w, 0.075);
  const [i0, i1, j0, j1] = cv.box(cx - w, cy - g.eyeHu - lidT, cx + w, cy + g.eyeHl);
  for (let i = i0; i < i1; i++) {
    const qx = cv.qx(i);
    const hx = overlap(qx, cx - w, cx + w, pw);
    if (hx <= 0) continue;
    const u = (qx - cx) / w;
    const prof = Math.sqrt(Math.max(0, 1 - u * u));
    const yTop = cy - g.eyeHu * prof;
    const yBot = cy + g.eyeHl * prof;
    for (let j = j0; j < j1; j++) {
      const qy = cv.qy(j);
      const p = j * cv.size + i;
      const inside = overlap(qy, yTop, yBot, pw) * hx;
      if (inside > 0) {
        cv.blend(p, sclera, inside);
        const dx = qx - cx;
        const dy = qy - cy;
        const irisCov = clamp01(0.5 - (Math.sqrt(dx * dx + dy * dy) - irisR) / pw);
        cv.blend(p, iris, irisCov * inside);
      }
      // Upper lid line (lashes) rides on the top arc, so AU5/AU6/AU7 move it.
      const lidCov = overlap(qy, yTop - lidT * (0.4 + 0.6 * prof), yTop + 0.3 * pw, pw) * hx;
      cv.blend(p, lid, lidCov * 0.85);
    }
  }
}

/**
 * Draws one frame's face into `cv` (the background must already be there).
 * `cv`'s view transform places the face (head jitter, per-clip placement).
 */
export function drawFace(cv: Canvas, id: FaceIdentity, g: FaceGeometry): void {
  const skin = id.skin;
  const dark = (c: Rgb, f: number): Rgb => [c[0] * f, c[1] * f, c[2] * f];

  // Neck, hair behind the head, ears.
  fillLipBandRect(cv, -0.28, id.headCy + 0.3, 0.28, 1.4, dark(skin, 0.78));
  drawHairBack(cv, id);
  for (const s of [-1, 1]) fillEllipse(cv, s * id.headRx * 0.97, id.eyeY + 0.08, 0.075, 0.14, dark(skin, 0.9));

  drawHead(cv, id, g);

  for (const sp of id.spots) blob(cv, sp[0], sp[1], sp[2], sp[2], dark(skin, 0.55), sp[3]);
  if (id.beard > 0) {
    blob(cv, 0, id.mouthY + 0.22, 0.32, 0.2, dark(skin, 0.55), id.beard);
    blob(cv, 0, id.mouthY - 0.08, 0.2, 0.04, dark(skin, 0.55), id.beard * 0.8);
  }

  // Forehead wrinkles (AU1+2) and the vertical furrows between the brows (AU4).
  const wr = dark(skin, 0.68);
  const topBrow = Math.min(g.brows[0][1], g.brows[1][1], g.brows[0][3]);
  for (let k = 0; k < 3; k++) {
    const y = topBrow - 0.07 - 0.055 * k;
    strokePolyline(cv, [-0.3, y + 0.01, 0, y - 0.005, 0.3, y + 0.01], 0.008, wr, g.foreheadWrinkle * (1 - 0.2 * k));
  }
  const furrowY = (g.brows[0][1] + g.brows[1][1]) / 2;
  for (const s of [-1, 1]) {
    strokePolyline(cv, [s * 0.03, furrowY - 0.05, s * 0.04, furrowY + 0.04], 0.008, wr, g.glabellaFurrow);
  }

  // Brows.
  const browCol: Rgb = dark(id.hair, 0.85);
  for (const b of g.brows) strokePolyline(cv, b, id.browThick / 2, browCol, 0.92);

  // Eyes and crow's feet.
  for (const s of [-1, 1]) {
    drawEye(cv, id, g, s * id.eyeDx);
    const ox = s * (id.eyeDx + id.eyeW + 0.02);
    for (let k = -1; k <= 1; k++) {
      strokePolyline(cv, [ox, g.eyeY + 0.02 * k, ox + s * 0.06, g.eyeY + 0.045 * k], 0.006, wr, g.crowsFeet);
    }
  }

  // Cheeks (raised by AU6/AU12) and the nasolabial folds that follow the mouth corners.
  for (const s of [-1, 1]) {
    blob(cv, s * (id.eyeDx + 0.05), g.cheekY, 0.09, 0.06, [skin[0] * 1.02, skin[1] * 0.82, skin[2] * 0.8], 0.35);
    blob(cv, s * (id.eyeDx + 0.02), g.cheekY - 0.05, 0.07, 0.035, [Math.min(1, skin[0] * 1.15), Math.min(1, skin[1] * 1.12), Math.min(1, skin[2] * 1.1)], 0.35);
    const corner = s < 0 ? g.mouthL : g.mouthR;
    strokePolyline(
      cv,
      [s * (id.noseW + 0.05), g.nostrilY - 0.02, s * (id.noseW + 0.09), (g.nostrilY + corner[1]) / 2, corner[0] + s * 0.03, corner[1] + 0.01],
      0.009,
      dark(skin, 0.7),
      g.nasolabial,
    );
  }

  // Nose: bridge shadows, AU9 wrinkles, tip shadow, nostrils.
  for (const s of [-1, 1]) {
    strokePolyline(cv, [s * 0.05, id.eyeY + 0.02, s * 0.06, g.nostrilY - 0.06], 0.012, dark(skin, 0.85), 0.5);
  }
  for (let k = 0; k < 3; k++) {
    const y = id.eyeY + 0.03 + 0.035 * k;
    strokePolyline(cv, [-0.05, y, 0, y - 0.012, 0.05, y], 0.006, wr, g.noseWrinkle);
  }
  blob(cv, 0, g.nostrilY - 0.005, id.noseW * 1.1, 0.03, dark(skin, 0.78), 0.45);
  for (const s of [-1, 1]) {
    fillEllipse(cv, s * g.nostrilW * 0.55, g.nostrilY + 0.012, 0.022, 0.012, dark(skin, 0.3), 0.9);
  }

  // Mouth: lips, then the opening (AU25/26, or teeth shown by AU10), then the closure line.
  fillLipBand(cv, g.mouthL, g.mouthR, g.upperOuter, g.lowerOuter, id.lips, 1);
  if (g.lowerInner - g.upperInner > 0.002) {
    fillLipBand(cv, g.mouthL, g.mouthR, g.upperInner, g.lowerInner, [0.16, 0.07, 0.07], 1);
    // Upper teeth show in the top part of the opening.
    const teethBot = g.upperInner + Math.min(0.035, (g.lowerInner - g.upperInner) * 0.45);
    fillLipBand(cv, g.mouthL, g.mouthR, g.upperInner, teethBot, [0.85, 0.83, 0.78], 0.9);
  }
  const mid = (g.upperInner + g.lowerInner) / 2;
  fillLipBand(cv, g.mouthL, g.mouthR, mid - 0.006, mid + 0.006, dark(id.lips, 0.35), 0.9);
  if (g.dimple > 0) {
    const c = g.dimpleSide < 0 ? g.mouthL : g.mouthR;
    blob(cv, c[0] + g.dimpleSide * 0.03, c[1], 0.018, 0.025, dark(skin, 0.5), g.dimple);
  }
}

function fillLipBandRect(cv: Canvas, x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
  const col = cv.colour(c);
  const pw = cv.pw;
  const [i0, i1, j0, j1] = cv.box(x0, y0, x1, y1);
  for (let j = j0; j < j1; j++) {
    const cy = overlap(cv.qy(j), y0, y1, pw);
    if (cy <= 0) continue;
    for (let i = i0; i < i1; i++) cv.blend(j * cv.size + i, col, cy * overlap(cv.qx(i), x0, x1, pw));
  }
}

function drawHairBack(cv: Canvas, id: FaceIdentity): void {
  const col = cv.colour(id.hair);
  const pw = cv.pw;
  const cx = 0;
  const cy = id.headCy - 0.04;
  const rx = id.headRx * 1.1;
  const ry = id.headRy * 1.05;
  const [i0, i1, j0, j1] = cv.box(cx - rx, cy - ry, cx + rx, id.hairBottom);
  for (let j = j0; j < j1; j++) {
    const qy = cv.qy(j);
    const vy = overlap(qy, -10, id.hairBottom, pw);
    if (vy <= 0) continue;
    const dy = (qy - cy) / ry;
    for (let i = i0; i < i1; i++) {
      const dx = (cv.qx(i) - cx) / rx;
      const sd = (Math.sqrt(dx * dx + dy * dy) - 1) * Math.min(rx, ry);
      const cov = clamp01(0.5 - sd / pw) * vy;
      if (cov > 0) cv.blend(j * cv.size + i, col, cov);
    }
  }
}

/** Head: skin with radial shading and value-noise texture, and the hair fringe above the hairline. */
function drawHead(cv: Canvas, id: FaceIdentity, g: FaceGeometry): void {
  const pw = cv.pw;
  const cy = id.headCy;
  const rx = id.headRx;
  const ry = id.headRy;
  const rb = g.chinRy;
  const skin = cv.colour(id.skin);
  const hair = cv.colour(id.hair);
  const tex = id.texture;
  const C = cv.channels;
  const d = cv.data;
  const [i0, i1, j0, j1] = cv.box(-rx, cy - ry, rx, cy + rb);
  const col: Rgb = [0, 0, 0];
  for (let j = j0; j < j1; j++) {
    const qy = cv.qy(j);
    const dy = qy - cy;
    const ryy = dy > 0 ? rb : ry;
    const ny = dy / ryy;
    // Texture grid spans the face box [-1, 1]^2.
    const ty = clamp01((qy + 1) / 2) * (TEX - 1);
    const ty0 = Math.min(TEX - 2, Math.floor(ty));
    const fy = ty - ty0;
    for (let i = i0; i < i1; i++) {
      const qx = cv.qx(i);
      const nx = qx / rx;
      const r2 = nx * nx + ny * ny;
      const sd = (Math.sqrt(r2) - 1) * Math.min(rx, ryy);
      const cov = clamp01(0.5 - sd / pw);
      if (cov <= 0) continue;
      const tx = clamp01((qx + 1) / 2) * (TEX - 1);
      const tx0 = Math.min(TEX - 2, Math.floor(tx));
      const fx = tx - tx0;
      const k = ty0 * TEX + tx0;
      const n =
        (tex[k] * (1 - fx) + tex[k + 1] * fx) * (1 - fy) + (tex[k + TEX] * (1 - fx) + tex[k + TEX + 1] * fx) * fy;
      const shade = (1 - id.shading * r2) * (1 + id.textureAmp * n);
      const hairline = id.hairY + id.hairDrop * nx * nx;
      const hcov = overlap(qy, -10, hairline, pw);
      for (let c = 0; c < 3; c++) col[c] = skin[c] * shade * (1 - hcov) + hair[c] * hcov;
      const p = j * cv.size + i;
      if (C === 1) d[p] += (col[0] - d[p]) * cov;
      else {
        d[p * 3] += (col[0] - d[p * 3]) * cov;
        d[p * 3 + 1] += (col[1] - d[p * 3 + 1]) * cov;
        d[p * 3 + 2] += (col[2] - d[p * 3 + 2]) * cov;
      }
    }
  }
}
