/** sysexits.h EX_CONFIG: the process exits with it when the configuration is invalid (systemd won't restart-loop on it with RestartPreventExitStatus=78). */
export const EX_CONFIG = 78
