# cvagent %postun ($1: 0 on erase, 1 on upgrade): restart a running service on upgrade.
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload >/dev/null 2>&1 || :
  if [ "$1" -ge 1 ]; then
    systemctl try-restart cvagent.service >/dev/null 2>&1 || :
  fi
fi
exit 0
