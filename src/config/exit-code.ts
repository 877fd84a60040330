/** sysexits.h EX_CONFIG: the process exits with it when the configuration is invalid (systemd won't restart-loop on it with RestartPreventExitStatus=78). */
export const EX_CONFIG = 78

/** sysexits.h EX_USAGE: a bad command line. */
export const EX_USAGE = 64
/** sysexits.h EX_NOINPUT: an input that does not exist (a topic, a stream, a file). */
export const EX_NOINPUT = 66
/** sysexits.h EX_UNAVAILABLE: a service the command needs cannot be reached. */
export const EX_UNAVAILABLE = 69
