/* skill.h - which skill this binary runs as: SKILL.md frontmatter gives
 * X-Skill-Source (name) and X-Skill-Version (version); the install path
 * gives X-Skill-Platform. */
#ifndef NEMO_SKILL_H
#define NEMO_SKILL_H

#include <stddef.h>

#define SKILL_DEFAULT_NAME "nemo-mcp"
#define SKILL_DEFAULT_VERSION NEMO_VERSION

typedef struct nemo_skill {
    char name[128];          /* X-Skill-Source */
    char version[64];        /* X-Skill-Version */
    char platform[32];       /* X-Skill-Platform: clawhub | cursor | unknown */
    char path[4096];         /* SKILL.md used, "" when none */
    char api_domain[512];    /* frontmatter apiDomain, "" when none */
    long long max_upload_bytes; /* frontmatter limit, 0 when none */
    int from_file;           /* 1 when name/version came from SKILL.md */
    char warning[512];       /* why defaults are used, "" when fine */
    int named_broken;        /* NEMO_SKILL_FILE names a file that could not
                                be used (warning says why) */
} nemo_skill;

/* Find SKILL.md (NEMO_SKILL_FILE, else beside the resolved executable, else
 * <prefix>/share/nemo-mcp/SKILL.md), parse it, fill out. Always fills out
 * (defaults on any problem, with out->warning set and logged loudly).
 * exe_path: argv[0], or NULL (then the system's answer: plat_exe_path). */
void skill_load(nemo_skill *out, const char *exe_path);
/* Parse one file into out (no search). 0 ok, -1 (out->warning set). */
int skill_load_file(nemo_skill *out, const char *path);
/* Platform: SKILL_SOURCE, else NEMO_SKILL_PLATFORM, else from the install
 * path via the table (~/.clawhub clawhub, ~/.cursor/skills cursor,
 * ~/.openclaw openclaw, ~/.claude/skills claude_code), else "unknown".
 * home may be NULL ($HOME). */
const char *skill_platform_for_path(const char *path, const char *home);

#endif
