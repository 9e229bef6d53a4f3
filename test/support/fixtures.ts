import path from 'node:path';

/** The shared conformance material, beside the checkout (../shared), or where PAVE_SHARED_DIR points. */
export const SHARED_DIR = process.env.PAVE_SHARED_DIR ?? path.resolve(import.meta.dirname, '../../../shared');
export const BACKSTAGE_FIXTURES = path.join(SHARED_DIR, 'conformance/backstage');
export const SCORE_FIXTURES = path.join(SHARED_DIR, 'conformance/score');
