/* template: fill @NAME@ placeholders of the files in templates/ */
#ifndef EARLYFS_TEMPLATE_H
#define EARLYFS_TEMPLATE_H
#include <stddef.h>

struct template_var {
	const char *name;	/* "ROOT" for @ROOT@ */
	const char *value;
};

/*
 * Renders text into a malloc'ed string.  Returns 0; -EINVAL when a
 * placeholder has no value (*ret_unknown names it, up to 31 characters);
 * -ENOMEM.  A value may not contain a newline (-EINVAL): it would add lines.
 */
int template_render(const char *text, const struct template_var *vars,
		    size_t n, char **ret, char *ret_unknown);
#endif
