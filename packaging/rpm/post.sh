# cvagent %post ($1: 1 on install, 2 on upgrade). As on Fedora/RHEL, installing does not start the
# service: `systemctl enable --now cvagent` does. An upgrade restarts a running one (%postun).
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || :
fi
exit 0
