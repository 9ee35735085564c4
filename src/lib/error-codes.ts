/**
 * Every error code vipwatch itself gives out, in one place. The strings are public (logs, JSON answers, alert
 * metadata, tests): never change one. Code throws `new VipwatchError(ERR.X, …)` and compares `code === ERR.X`, so a
 * typo is a type error. Codes from Node, undici or the OS (ECONNREFUSED, UND_ERR_*, ERR_TLS_*, …) are not here.
 */
export const ERR = {
  // Configuration and command line
  /** The configuration failed validation; ConfigError lists every problem. */
  CONFIG_INVALID: 'VIPWATCH_CONFIG_INVALID',
  /** A bad command line (UsageError): printed with a hint, exit code 2. */
  USAGE: 'VIPWATCH_USAGE',
  /** `vipwatch diagnose --service` could not get the cluster view it was asked for (API unreachable, refused, Service missing): exit 2. */
  DIAGNOSE_NO_CLUSTER_VIEW: 'VIPWATCH_DIAGNOSE_NO_CLUSTER_VIEW',

  // Time
  /** A deadline on the injected clock passed (DeadlineError, the reason of a deadlineSignal's abort). */
  DEADLINE: 'VIPWATCH_DEADLINE',

  // Probing
  /** A target's http.headers sets a header the prober owns (it sends one bodiless request), or a second Host. */
  HTTP_HEADER_UNSUPPORTED: 'VIPWATCH_HTTP_HEADER_UNSUPPORTED',

  // Incidents and notifications on disk
  /** An incident id that is not safe as a file name, refused before it is used as one. */
  INCIDENT_ID: 'VIPWATCH_INCIDENT_ID',
  /** A notification could not be written to a sink's outbox (it is still delivered from memory). */
  OUTBOX_WRITE: 'VIPWATCH_OUTBOX_WRITE',
  /** A daily digest could not be written to `state.dir/digest/<sink>/` (it is still delivered from memory). */
  DIGEST_WRITE: 'VIPWATCH_DIGEST_WRITE',

  // Alert delivery (DeliveryError; one per DeliveryReason)
  /** No answer from the receiver within the sink's timeout. */
  ALERT_TIMEOUT: 'VIPWATCH_ALERT_TIMEOUT',
  /** The receiver refused the connection. */
  ALERT_CONNECTION_REFUSED: 'VIPWATCH_ALERT_CONNECTION_REFUSED',
  /** The connection to the receiver was reset or closed before an answer. */
  ALERT_CONNECTION_RESET: 'VIPWATCH_ALERT_CONNECTION_RESET',
  /** TLS with the receiver failed (untrusted certificate, wrong name, STARTTLS refused, …). */
  ALERT_TLS: 'VIPWATCH_ALERT_TLS',
  /** The receiver answered with a status that is not success. */
  ALERT_HTTP_STATUS: 'VIPWATCH_ALERT_HTTP_STATUS',
  /** The SMTP server refused the credentials. */
  ALERT_SMTP_AUTH: 'VIPWATCH_ALERT_SMTP_AUTH',
  /** The SMTP server refused the sender, a recipient or the message. */
  ALERT_SMTP_REJECTED: 'VIPWATCH_ALERT_SMTP_REJECTED',
  /** vipwatch stopped before the receiver answered. */
  ALERT_ABORTED: 'VIPWATCH_ALERT_ABORTED',
  /** Any other delivery failure; the message carries the underlying code. */
  ALERT_FAILED: 'VIPWATCH_ALERT_FAILED',

  // Kubernetes API answers (KubeApiError, by HTTP status)
  /** 401: the API server did not accept the credentials. */
  KUBE_UNAUTHORIZED: 'VIPWATCH_KUBE_UNAUTHORIZED',
  /** 403: RBAC does not allow this list or watch. */
  KUBE_FORBIDDEN: 'VIPWATCH_KUBE_FORBIDDEN',
  /** 404: the resource does not exist (e.g. a CRD that is not installed). */
  KUBE_NOT_FOUND: 'VIPWATCH_KUBE_NOT_FOUND',
  /** 410: the resourceVersion a watch resumed from is gone; relist. */
  KUBE_EXPIRED: 'VIPWATCH_KUBE_EXPIRED',
  /** Any other non-2xx answer (or ERROR watch event) from the API server. */
  KUBE_HTTP: 'VIPWATCH_KUBE_HTTP',

  // Kubernetes failures that are not API answers
  /** The API server could not be reached (refused, reset, no route, DNS, …). */
  KUBE_UNREACHABLE: 'VIPWATCH_KUBE_UNREACHABLE',
  /** No answer from the API server within the request's deadline. */
  KUBE_TIMEOUT: 'VIPWATCH_KUBE_TIMEOUT',
  /** TLS with the API server failed (certificate not trusted, wrong name, handshake refused, …). */
  KUBE_TLS: 'VIPWATCH_KUBE_TLS',
  /** The API server answered something that is not JSON, not a list, or not a watch event. */
  KUBE_PROTOCOL: 'VIPWATCH_KUBE_PROTOCOL',
  /** A list page or watch event line over kubernetes.maxResponseBytes: reading stopped there. */
  KUBE_TOO_LARGE: 'VIPWATCH_KUBE_TOO_LARGE',
  /** A watch the server ended (cleanly) before kubernetes.minWatchDuration: counted as a failure for the backoff. */
  KUBE_WATCH_SHORT: 'VIPWATCH_KUBE_WATCH_SHORT',
  /** Credentials could not be had: a token file unreadable, an exec credential plugin failed. */
  KUBE_CREDENTIALS: 'VIPWATCH_KUBE_CREDENTIALS',
  /** The kubeconfig (or in-cluster environment) cannot be used: missing, unreadable or broken. */
  KUBECONFIG_INVALID: 'VIPWATCH_KUBECONFIG_INVALID',
  /** A kubernetes label selector that does not parse. */
  LABEL_SELECTOR_INVALID: 'VIPWATCH_LABEL_SELECTOR_INVALID',

  // Node evidence agent (vipwatch node-agent): reading the kernel's files under its --proc-root
  /** A file or directory the agent reads does not exist (a wrong --proc-root, IPv4 disabled, an older kernel). */
  AGENT_PROC_MISSING: 'VIPWATCH_AGENT_PROC_MISSING',
  /** A file the agent reads exists but cannot be read (permission, I/O error). */
  AGENT_PROC_UNREADABLE: 'VIPWATCH_AGENT_PROC_UNREADABLE',
  /** A file the agent reads does not parse (a sysctl that is not an integer, a netstat header without its values). */
  AGENT_PROC_MALFORMED: 'VIPWATCH_AGENT_PROC_MALFORMED',

  // Kernel evidence: vipwatch asking the node evidence agents
  /** A node's agent could not be reached, or did not answer within agents.timeout. */
  AGENT_UNREACHABLE: 'VIPWATCH_AGENT_UNREACHABLE',
  /** A node's agent answered with a status other than 200 (401: agents.tokenFile missing or wrong). */
  AGENT_HTTP_STATUS: 'VIPWATCH_AGENT_HTTP_STATUS',
  /** A node's agent answered something that is not its /v1/node report (or too much of it). */
  AGENT_BAD_REPLY: 'VIPWATCH_AGENT_BAD_REPLY',
  /** No agent URL for a node: the template needs {nodeIP} and the Node has no InternalIP in the cluster view. */
  AGENT_NO_ADDRESS: 'VIPWATCH_AGENT_NO_ADDRESS',

  // HTTP server answers (the `code` field of a JSON error body)
  /** 404: no route for this path. */
  NOT_FOUND: 'VIPWATCH_NOT_FOUND',
  /** 405: a method other than GET or HEAD. */
  METHOD: 'VIPWATCH_METHOD',
  /** 500: a handler threw; the error is logged, not sent. */
  INTERNAL: 'VIPWATCH_INTERNAL',
  /** 401: server.auth or server.metricsAuth is set and the request carries no valid credential. */
  UNAUTHORIZED: 'VIPWATCH_UNAUTHORIZED',
  /** 400: a query parameter of an API endpoint is invalid. */
  BAD_QUERY: 'VIPWATCH_BAD_QUERY',
} as const;

/** A vipwatch error code: one of the values of ERR. */
export type ErrorCode = (typeof ERR)[keyof typeof ERR];
