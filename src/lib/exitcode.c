/* exitcode: see exitcode.h */
#include <errno.h>
#include <sys/wait.h>
#include "exitcode.h"

int exitcode_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status)
				 : 128 + WTERMSIG(status);
}
