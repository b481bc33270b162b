// Tests and the emulator. The emulator speaks Salesforce's wire format (grant_type, error_description,
// Bypass_2factor), handles requests in loops on purpose, and its route handlers mirror Salesforce's branching;
// chai's expect().to.be.true style and mocha's callbacks need the rest.
module.exports = {
  extends: '../.eslintrc.cjs',
  rules: {
    '@typescript-eslint/no-unused-expressions': 'off',
    'no-unused-expressions': 'off',
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    'prefer-arrow-callback': 'off',
    'func-names': 'off',
    camelcase: 'off',
    'no-await-in-loop': 'off',
    complexity: 'off',
    'class-methods-use-this': 'off',
    'no-param-reassign': 'off',
    'unicorn/numeric-separators-style': 'off',
  },
};
