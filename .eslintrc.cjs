// Lint as the official sf plugins do: Salesforce's TypeScript rules plus the sf-plugin rules for commands.
module.exports = {
  extends: ['eslint-config-salesforce-typescript', 'plugin:sf-plugin/recommended'],
  root: true,
  rules: {
    // The license header rule is for Salesforce-owned repositories.
    header: 'off',
  },
};
