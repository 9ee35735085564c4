/** The agent's defaults, apart so the CLI's help can name them without loading the server. */

/** The agent's port (vipwatch itself serves on 9464). */
export const AGENT_PORT = 9465;
export const AGENT_DEFAULT_LISTEN = `0.0.0.0:${AGENT_PORT}`;
/** The node's name, from the downward API's spec.nodeName (the DaemonSet sets it); the host name when unset. */
export const NODE_NAME_ENV = 'NODE_NAME';
