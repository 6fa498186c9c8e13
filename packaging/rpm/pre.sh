# cvagent %pre: the system user exists before the files are installed.
getent group cvagent >/dev/null || groupadd --system cvagent
getent passwd cvagent >/dev/null ||
  useradd --system --gid cvagent --home-dir /var/lib/cvagent --no-create-home \
    --shell /sbin/nologin --comment "cvagent ingestion agent" cvagent
exit 0
