import { AGENT_DEFAULT_LISTEN, NODE_NAME_ENV } from '../agent/defaults.js';
import { packageVersion } from '../lib/version.js';
import { parseArgs, UsageError, type ArgsSpec } from './args.js';
import { checkConfigCommand } from './check-config.js';
import { configFileToRun, DEFAULT_CONFIG_ENV } from './config-path.js';
import { DEFAULT_HEALTH_URL, HEALTHCHECK_DEADLINE_MS, healthcheckCommand } from './healthcheck.js';
import { EXIT, processIo, type CliIo } from './io.js';
import { loadOrReport, runCommand } from './run.js';

const HELP: Record<string, string> = {
  main: `vipwatch: finds intermittent LoadBalancer VIP failures (asymmetric routing, rp_filter) and names the node.

Usage:
  vipwatch run --config FILE            probe the configured targets until stopped
  vipwatch check-config --config FILE   validate a config file and list every problem
  vipwatch test-alert --config FILE [--sink NAME]
                                        send a sample incident to every alert sink (or one) to check wiring
  vipwatch healthcheck [--url URL] [--insecure]
                                        exit 0 when vipwatch's server answers /-/healthy (a container HEALTHCHECK)
  vipwatch diagnose ADDRESS[:PORT] [--http PATH] [--backend-header H] [--service NS/NAME] [--json] ...
                                        probe a VIP now (fresh connections, no config) and print the diagnosis
  vipwatch node-agent [--listen ADDR:PORT] [--token-file FILE] [--proc-root DIR]
                                        serve this node's rp_filter values and reverse-path drop counters (a DaemonSet)
  vipwatch --version

Run "vipwatch COMMAND --help" for a command's options.
Exit codes: 0 ok, 1 failure (invalid config, failed check), 2 usage error, 70 internal error.`,
  run: `Usage: vipwatch run --config FILE

Probes every configured target until SIGINT or SIGTERM. Serves /metrics, /-/healthy, /-/ready and the API
on server.listen. SIGHUP or a change of FILE reloads it: a valid file is applied (keys that need a restart
are named in a warning), an invalid one is rejected with its problems logged and the running config kept.
SIGINT/SIGTERM: attempts in flight may finish (up to 8 s), state and the outbox are flushed, exit 0 within
10 s; a second signal or the 10 s deadline exits at once with 1.
When FILE does not exist and the environment variable ${DEFAULT_CONFIG_ENV} names a config (the container image
sets it to its built-in default), that config runs instead and the first log line says what to mount at FILE.
Exit codes: 0 stopped cleanly, 1 invalid config, cannot listen, or stop cut short, 2 usage error.`,
  'check-config': `Usage: vipwatch check-config --config FILE

Validates FILE and prints every problem as FILE:LINE:COL: path.to.key: message.
Exit codes: 0 valid, 1 invalid (problems on stderr), 2 usage error.`,
  'test-alert': `Usage: vipwatch test-alert --config FILE [--sink NAME]

Sends a sample incident, clearly marked as a test, straight to every configured alert sink (webhooks,
email, alertmanager) or only to the one named, and prints one line per sink with the result.
Exit codes: 0 every send succeeded, 1 a send failed or the config is invalid, 2 usage error.`,
  healthcheck: `Usage: vipwatch healthcheck [--url URL] [--insecure]

Asks URL (default ${DEFAULT_HEALTH_URL}) and succeeds when it answers 200 within ${HEALTHCHECK_DEADLINE_MS / 1000} s;
otherwise prints why on stderr. The container image's HEALTHCHECK runs it, so the image needs no curl.
With server.tls, pass --url https://127.0.0.1:PORT/-/healthy, and --insecure when the certificate is not made out
to 127.0.0.1 (like curl -k: the certificate is not checked). user:password@ in the URL is sent as basic auth.
Exit codes: 0 healthy, 1 unhealthy (refused, timed out, any status but 200), 2 usage error.`,
  'node-agent': `Usage: vipwatch node-agent [--listen ADDR:PORT] [--token-file FILE] [--proc-root DIR]

The node evidence agent, run on every node (deploy/kubernetes/node-agent/daemonset.yaml: hostNetwork, no privilege).
Read-only: at each request it reads net.ipv4.conf.{all,default,IFACE}.rp_filter and log_martians of every interface
(effective = max(all, IFACE)) and the drop counters of /proc/net/netstat (TcpExt IPReversePathFilter and others) of
its network namespace, and serves them:
  GET /v1/node    JSON: node, readAt, interfaces, reversePathDrops, counters, agentVersion, errors
  GET /metrics    vipwatch_node_rp_filter{interface,scope}, vipwatch_node_reverse_path_drops_total, …
  GET /-/healthy  200 (never needs the token)
--listen       where to serve (default ${AGENT_DEFAULT_LISTEN})
--token-file   require "Authorization: Bearer <the file's token>" on /v1/node and /metrics
--proc-root    read DIR/proc/... instead of /proc/... (default /)
The node's name is $${NODE_NAME_ENV} (the downward API's spec.nodeName), else the host name. SIGINT/SIGTERM stop it.
Exit codes: 0 stopped cleanly, 1 cannot listen or read the token file, 2 usage error.`,
};

/** The options each command accepts: `--sink` only means something to test-alert. */
const OPTIONS: Record<string, ArgsSpec> = {
  run: { values: ['config'], booleans: ['help'] },
  'check-config': { values: ['config'], booleans: ['help'] },
  'test-alert': { values: ['config', 'sink'], booleans: ['help'] },
  healthcheck: { values: ['url'], booleans: ['help', 'insecure'] },
  'node-agent': { values: ['listen', 'token-file', 'proc-root'], booleans: ['help'] },
};

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.out(HELP.main!);
      return command ? EXIT.ok : EXIT.usage;
    }
    if (command === '--version' || command === 'version') {
      io.out(`vipwatch ${packageVersion()}`);
      return EXIT.ok;
    }
    if (command === 'diagnose') {
      // Its own parser (a positional ADDRESS[:PORT], usage errors with its own hint); loaded on demand like run's App.
      const { diagnoseCommand } = await import('./diagnose.js');
      return await diagnoseCommand(rest, io);
    }
    const spec = Object.hasOwn(OPTIONS, command) ? OPTIONS[command] : undefined;
    if (!spec) throw new UsageError(`unknown command "${command}"`);
    const args = parseArgs(rest, spec);
    if (args.flags.help) {
      io.out(HELP[command]!);
      return EXIT.ok;
    }
    if (args.positionals.length) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
    if (command === 'healthcheck') {
      const url = typeof args.flags.url === 'string' ? args.flags.url : DEFAULT_HEALTH_URL;
      return await healthcheckCommand(url, io, { insecure: args.flags.insecure === true });
    }
    if (command === 'node-agent') {
      const value = (name: string) => (typeof args.flags[name] === 'string' ? args.flags[name] : undefined);
      // Loaded on demand: the other commands never load the agent's server.
      const { nodeAgentCommand } = await import('./node-agent.js');
      return await nodeAgentCommand({ listen: value('listen'), tokenFile: value('token-file'), procRoot: value('proc-root') }, io);
    }
    const config = args.flags.config;
    if (typeof config !== 'string') throw new UsageError('--config FILE is required');
    switch (command) {
      case 'run':
        return await runCommand(configFileToRun(config, io), io);
      case 'check-config':
        return checkConfigCommand(config, io);
      case 'test-alert': {
        const loaded = loadOrReport(config, io);
        if (!loaded) return EXIT.failed;
        const { testAlertCommand } = await import('./test-alert.js');
        return await testAlertCommand(loaded, { sink: typeof args.flags.sink === 'string' ? args.flags.sink : undefined, out: io.out });
      }
    }
    throw new UsageError(`unknown command "${command}"`);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`vipwatch: ${err.message}`);
      io.err('Run "vipwatch --help" for usage.');
      return EXIT.usage;
    }
    throw err;
  }
}
