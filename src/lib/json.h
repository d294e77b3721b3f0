/* json: the documents of --json (docs/json.md): written as they go,
 * strings escaped (what a partition holds is data: a byte that is not
 * UTF-8 becomes U+FFFD, a control character \uXXXX). */
#ifndef EARLYFS_JSON_H
#define EARLYFS_JSON_H
#include <stdbool.h>
#include <stdio.h>

#define JSON_DEPTH 16
/* The schema's version: "earlyfs_json" in every document.  Keys are
 * added, never renamed or removed, within a version. */
#define JSON_SCHEMA 1

struct json {
	FILE *out;
	int depth;
	bool had[JSON_DEPTH];	/* a member written at this depth */
	char closer[JSON_DEPTH];	/* '}' or ']' */
};

/* The document's object, with "earlyfs_json" and "command". */
void json_begin(struct json *j, FILE *out, const char *command);
void json_end(struct json *j);
/* key: a member of the enclosing object; NULL for an array's element */
void json_object(struct json *j, const char *key);
void json_array(struct json *j, const char *key);
void json_close(struct json *j);	/* the object or array open last */
void json_str(struct json *j, const char *key, const char *s);	/* NULL: null */
void json_strn(struct json *j, const char *key, const char *s, size_t n);
void json_int(struct json *j, const char *key, long long v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
#endif
