// Tests and the emulator: chai's expect().to.be.true style and mocha's `this` need these relaxations.
module.exports = {
  extends: '../.eslintrc.cjs',
  rules: {
    '@typescript-eslint/no-unused-expressions': 'off',
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    // Mocha's describe/it callbacks are functions, not methods.
    'prefer-arrow-callback': 'off',
    'func-names': 'off',
  },
};
