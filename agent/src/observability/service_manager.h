#pragma once
// Readiness notification for service managers (systemd's Type=notify): the sd_notify protocol,
// a datagram of "KEY=value" lines to the unix socket named by $NOTIFY_SOCKET. systemd documents it
// as a stable interface to reimplement; doing so keeps libsystemd out of a non-systemd container.
// Without $NOTIFY_SOCKET (a shell, a container, --once) every call does nothing.

#include <string_view>

namespace cvagent::observability {

// Sends `state` (e.g. "READY=1\nSTATUS=running"). False when there is no manager or the send
// failed; the agent never depends on it.
bool notifyServiceManager(std::string_view state);

// The lines systemd expects around a reload: RELOADING=1 with the monotonic time, then READY=1.
bool notifyReloading();
bool notifyReady(std::string_view status);
bool notifyStopping();

}  // namespace cvagent::observability
