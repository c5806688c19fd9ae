// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-check: one test passes, one is skipped, one fails on
 * purpose.  The host must count exactly that (leaf tests, SKIP not counted
 * as a pass) and exit non-zero.  Also the smallest example of a C selftest.
 */
#include "kselftest_harness.h"

TEST(passes)
{
	ASSERT_EQ(2, 1 + 1);
}

TEST(is_skipped)
{
	SKIP(return, "skipped on purpose");
}

TEST(fails_on_purpose)
{
	TH_LOG("this failure is expected: it proves the harness reports one");
	EXPECT_EQ(1, 2);
}

TEST_HARNESS_MAIN
