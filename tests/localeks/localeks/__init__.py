"""localeks: a stateful local Amazon EKS endpoint for end-to-end tests.

moto's server (pinned in requirements.txt) plus the EKS calls moto lacks:
UpdateNodegroupVersion, DescribeUpdate and ListUpdates, with the rules EKS
enforces, and an admin API under /_localeks/. See README.md beside this
package.
"""
