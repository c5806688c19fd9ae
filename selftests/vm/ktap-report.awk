# SPDX-License-Identifier: GPL-2.0
#
# ktap-report.awk - turn one VM boot's results channel into the KTAP
# results that check.sh prints, line by line as they arrive, and count the
# test cases.  check.sh prints the document's version and plan lines, and
# the results of other boots before and after these.
#
# Input: the guest's KTAP (init.sh): a top-level test per test program, each
# program's own KTAP indented by four spaces as its subtest.  Variables:
#   offset   results check.sh printed before this boot (numbering continues)
#   prefix   put before every top-level test's name ("debug/": the flavour)
#   boot     put after the prefix for what belongs to this boot rather than
#            to a test (vm_run_complete, guest_kernel_clean, the harness's
#            own vm/... tests) when a kernel's suite is split across boots:
#            "shard2/" (may be empty)
#   expect   the tests the guest should run, space-separated, for when it
#            dies before it lists them itself (may be empty)
#   endfile  file holding the guest's end marker line (empty: none)
#   splats   file with the kernel log lines that fail a run
#   elapsed  file with run-vm.sh's timing ("timedout ..." if killed)
#   summary  file to write "PASSED FAILED SKIPPED RESULTS" to (RESULTS: the
#            number of top-level results printed)
#   faillist, skiplist  files to write the names of the failed and the
#            skipped test cases to, one a line
#
# Counting: leaf test cases.  A result with subtests counts its subtests
# only, plus one failure if it failed while none of them did (a program
# that crashed or timed out after its last report).  A "# SKIP" result is
# skipped, never passed, whatever its "ok"/"not ok".  A subtest that
# reported fewer results than its plan announced fails once more.  A test
# the guest never finished fails; one it never started is skipped ("not
# run").
# Two more results come from the host: vm_run_complete (the end marker
# arrived: no panic, no hang) and guest_kernel_clean (no splat in the
# kernel log).

# The name a top-level test is reported under: the prefix, and for the
# harness's own (vm/...) tests also the boot's name.
function top_name(name) {
	return prefix (name ~ /^vm\// ? boot : "") name
}

function out(s) {
	print s
	fflush()
}

function depth_of(s,    n) {
	n = match(s, /[^ ]/) - 1
	if (n < 0)
		return 0
	return int(n / 4)
}

# Record a result at depth d: "pass", "fail" or "skip".
function result(d, status, name, reason,    k, failed_here) {
	if (nchild[d + 1] > 0) {
		failed_here = nfail[d + 1] > 0
		if (plan[d + 1] > nchild[d + 1]) {
			out("# " name ": planned " plan[d + 1] " tests, reported " nchild[d + 1])
			nfailed++
			failures[nfailed] = name " (planned " plan[d + 1] ", reported " nchild[d + 1] ")"
			failed_here = 1
		}
		if (status == "fail" && !failed_here) {
			nfailed++
			failures[nfailed] = name
			failed_here = 1
		}
	} else {
		if (status == "skip" && reason == "" && skipreason[d + 1] != "")
			reason = skipreason[d + 1]
		if (status == "pass") {
			npassed++
		} else if (status == "skip") {
			nskipped++
			skips[nskipped] = name (reason != "" ? ": " reason : "")
		} else {
			nfailed++
			failures[nfailed] = name
		}
		failed_here = status == "fail"
	}
	for (k = d + 1; k <= maxdepth + 1; k++) {
		nchild[k] = 0
		nfail[k] = 0
		plan[k] = 0
		skipreason[k] = ""
	}
	nchild[d]++
	if (failed_here)
		nfail[d]++
	if (d > maxdepth)
		maxdepth = d
}

# "ok 3 name # SKIP reason" -> status, name, reason (globals r_*).
function parse_result(s,    rest, directive, p) {
	r_status = (s ~ /^not ok/) ? "fail" : "pass"
	rest = s
	sub(/^(not )?ok[ \t]+[0-9]*[ \t]*/, "", rest)
	directive = ""
	p = index(rest, "#")
	if (p > 0) {
		directive = substr(rest, p + 1)
		rest = substr(rest, 1, p - 1)
		sub(/^[ \t]+/, "", directive)
	}
	sub(/[ \t]+$/, "", rest)
	r_name = rest
	r_reason = ""
	if (toupper(directive) ~ /^SKIP/) {
		r_status = "skip"
		r_reason = directive
		sub(/^[Ss][Kk][Ii][Pp][ \t]*/, "", r_reason)
	} else if (toupper(directive) ~ /^(TODO|XFAIL)/) {
		r_status = "pass"
	} else if (directive != "") {
		r_reason = directive
	}
}

BEGIN {
	ntop = 0
	maxdepth = 0
	npassed = 0
	nfailed = 0
	nskipped = 0
	current = ""
}

{
	sub(/\r$/, "")
	line = $0
	d = depth_of(line)
	body = line
	sub(/^ +/, "", body)
}

# The guest's own header and plan: check.sh's replace them.
d == 0 && (body ~ /^(K?TAP version [0-9]+)$/ || body ~ /^1\.\.[0-9]+/) { next }

d == 0 && body ~ /^# toytcp-vm: kernel .*, tests: / {
	s = body
	sub(/.*, tests: /, "", s)
	nexpected = split(s, expected, " ")
	out(body)
	next
}

d == 1 && body ~ /^# Subtest: / {
	name = body
	sub(/^# Subtest: /, "", name)
	started_test[name] = 1
	current = top_name(name)
	out("    # Subtest: " current)
	next
}

# kselftest_harness.h names a test on its "#  RUN" line but not on its
# "ok N # SKIP reason" line.
d >= 1 && body ~ /^#  RUN  / {
	s = body
	sub(/^#  RUN +/, "", s)
	sub(/ \.\.\.$/, "", s)
	lastrun[d] = s
}

# A subtest's plan: fewer results than planned is a failure.
d >= 1 && body ~ /^1\.\.[0-9]+/ {
	s = body
	sub(/^1\.\./, "", s)
	plan[d] = s + 0
	# "1..0 # SKIP reason": the reason for the parent's SKIP.
	if (s ~ /^0[ \t]*#[ \t]*[Ss][Kk][Ii][Pp]/) {
		sub(/^0[ \t]*#[ \t]*[Ss][Kk][Ii][Pp][ \t]*/, "", s)
		skipreason[d] = s
	}
	out(line)
	next
}

d >= 1 && body ~ /^(not )?ok [0-9]+/ {
	parse_result(body)
	if (r_name == "")
		r_name = (d in lastrun) ? lastrun[d] : "(unnamed)"
	delete lastrun[d]
	result(d, r_status, current ": " r_name, r_reason)
	out(line)
	next
}

d == 0 && body ~ /^(not )?ok [0-9]+/ {
	parse_result(body)
	done[r_name] = 1
	ntop++
	result(0, r_status, top_name(r_name) (r_reason != "" ? " (" r_reason ")" : ""), r_reason)
	# Our number and the prefix; the rest (name, directive) as it came.
	s = body
	sub(/^(not )?ok[ \t]+[0-9]+[ \t]*/, "", s)
	out((body ~ /^not/ ? "not ok " : "ok ") (offset + ntop) " " top_name(r_name) substr(s, length(r_name) + 1))
	current = ""
	next
}

# Diagnostics and anything else: as is when indented; a stray top-level
# line that is not KTAP becomes a diagnostic.
{
	if (d == 0 && body !~ /^#/ && body != "")
		out("# " line)
	else
		out(line)
}

END {
	if (nexpected == 0 && expect != "")
		nexpected = split(expect, expected, " ")
	# Tests the guest never finished or never started.
	for (i = 1; i <= nexpected; i++) {
		name = expected[i]
		if (name in done)
			continue
		ntop++
		if (name in started_test) {
			out("# " top_name(name) ": no result: the VM died during this test")
			result(0, "fail", top_name(name) " (no result: the VM died during it)", "")
			out("not ok " (offset + ntop) " " top_name(name))
		} else {
			result(0, "skip", top_name(name), "not run: the VM died before it")
			out("ok " (offset + ntop) " " top_name(name) " # SKIP not run: the VM died before it")
		}
	}

	endline = ""
	if (endfile != "" && (getline endline < endfile) > 0) {
		close(endfile)
	}
	ntop++
	if (endline != "") {
		out("ok " (offset + ntop) " " prefix boot "vm_run_complete")
		npassed++
	} else {
		how = ""
		if (elapsed != "" && (getline how < elapsed) > 0)
			close(elapsed)
		if (how ~ /^timedout/)
			out("# no end marker: QEMU was killed, " how)
		else
			out("# no end marker: the guest kernel panicked, rebooted or QEMU failed; see the console log")
		out("not ok " (offset + ntop) " " prefix boot "vm_run_complete")
		nfailed++
		failures[nfailed] = prefix boot "vm_run_complete"
	}

	ntop++
	nsplat = 0
	if (splats != "") {
		while ((getline s < splats) > 0) {
			nsplat++
			if (nsplat <= 30)
				out("# kernel: " s)
		}
		close(splats)
	}
	if (nsplat > 30)
		out("# kernel: ... " (nsplat - 30) " more lines")
	if (nsplat == 0) {
		out("ok " (offset + ntop) " " prefix boot "guest_kernel_clean")
		npassed++
	} else {
		out("not ok " (offset + ntop) " " prefix boot "guest_kernel_clean")
		nfailed++
		failures[nfailed] = prefix boot "guest_kernel_clean"
	}

	if (faillist != "") {
		printf "" > faillist
		for (i = 1; i <= nfailed; i++)
			print failures[i] > faillist
		close(faillist)
	}
	if (skiplist != "") {
		printf "" > skiplist
		for (i = 1; i <= nskipped; i++)
			print skips[i] > skiplist
		close(skiplist)
	}
	if (summary != "")
		print npassed " " nfailed " " nskipped " " ntop > summary
}
