/* mcp.h - the MCP server on a pair of file descriptors (stdin/stdout). */
#ifndef NEMO_MCP_H
#define NEMO_MCP_H

#include "nemo/tool.h"

#define MCP_MAX_LINE (16u * 1024u * 1024u)

/* Serve until end of input or SIGTERM/SIGINT; cancels work in flight and
 * returns the process exit code (0 on a clean end). */
int mcp_serve(tool_env *env, int in_fd, int out_fd);

#endif
