// The demo's scoring table for the `ecommerce` preset.
//
// HAND-WRITTEN, PLAUSIBLE FIGURES FOR THE DEMO ONLY: not fitted on any data. The real table will
// be fitted offline from past journeys by the analytics side and exported inside the model JSON
// (same format: see "The model format" in the top-level README).
export const DEMO_SCORING = {
  target: 'customer',
  horizon: '30d',
  description: 'hand-written demo figures, not fitted on data',
  stages: {
    visitor: { p_convert: 0.02, expected_time: '9d' },
    browsing: { p_convert: 0.05, expected_time: '6d' },
    interested: { p_convert: 0.12, expected_time: '3d' },
    cart: { p_convert: 0.35, expected_time: '4h' },
    abandoned_cart: { p_convert: 0.15, expected_time: '2d' },
  },
};
