/* Routes of this module are being written; see the module owner. */
import type { Route } from './http.js';

export const soqlRoutes = (): Route[] => [];
