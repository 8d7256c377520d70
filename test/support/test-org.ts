/** The org and admin key test/setup seeds in every test file's database. */
export const TEST_ORG_ID = "org_test";
export const TEST_ADMIN_KEY = "wk_test_admin_key_0000000000000000000000000";
