import 'reflect-metadata';
import { afterAll } from 'vitest';
import { killStrayChildren } from './helpers/spawn.js';

afterAll(() => {
  killStrayChildren();
});
