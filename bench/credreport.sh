#!/usr/bin/env bash
# Generate an IAM credential report (22 columns) of one root row and USERS IAM
# users, for the memory benchmark in BENCHMARKS.md:
#   bench/credreport.sh 248000 > /tmp/report-70mb.csv
#   /usr/bin/time -v rootwatch scan --credential-report /tmp/report-70mb.csv --as-of 2026-03-01T00:00:00Z -f json -o /dev/null
# Each user row is about 280 bytes (a path in the ARN, keys used), so 5,000 users
# (IAM's quota) make 1.4 MB and 248,000 make 70 MB.
set -euo pipefail
users=${1:?usage: bench/credreport.sh USERS}
awk -v n="$users" 'BEGIN {
  print "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
  printf "<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,no_information,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
  for (i = 0; i < n; i++)
    printf "\nuser-%07d,arn:aws:iam::123456789012:user/engineering/team-%03d/user-%07d,2021-03-04T05:06:07+00:00,true,2026-02-01T10:11:12+00:00,2025-12-01T10:11:12+00:00,N/A,true,true,2025-06-01T00:00:00+00:00,2026-02-27T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A", i, i % 1000, i
}'
