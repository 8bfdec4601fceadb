// Moved to src/core/ (the digits trainer in src/retrain/ draws from it too); kept so existing import paths stay.
export { mulberry32 } from '../../src/core/mulberry32';
