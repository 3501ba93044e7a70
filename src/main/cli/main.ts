/**
 * The command line (bin/localdls): the service without Electron, the user's actions on a data
 * directory, and the phone simulator. One file per command; each parses its arguments, calls the
 * commands of src/main/commands and prints. Argument errors print the command's usage (exit 2),
 * other errors say what happened and what to do (exit 1).
 */
import packageJson from '../../../package.json';
import { ApiArgumentError } from '../../shared/api';
import { phoneMain } from '../../phone/cli';
import { BOOTSTRAP_USAGE, bootstrapCommand } from './bootstrap';
import { CA_USAGE, caCommand } from './ca';
import { CONTACT_USAGE, contactCommand } from './contact';
import type { CliIo } from './context';
import { DEVICES_USAGE, devicesCommand, ITEMS_USAGE, itemsCommand } from './devices';
import { UsageError, type Out } from './format';
import { JOB_USAGE, jobCommand } from './job';
import { PROFILE_USAGE, profileCommand } from './profile';
import { ROLLOUT_USAGE, rolloutCommand } from './rollout';
import { SERVE_USAGE, serve } from './serve';
import { TRAFFIC_USAGE, trafficCommand } from './traffic';

interface CliCommand {
  summary: string;
  usage: string;
  run: (args: string[], io: CliIo) => Promise<number>;
}

const COMMANDS: Record<string, CliCommand> = {
  serve: { summary: 'run the provisioning service without the desktop app', usage: SERVE_USAGE, run: serve },
  devices: { summary: 'list the devices that have contacted the service', usage: DEVICES_USAGE, run: devicesCommand },
  items: { summary: "show a device's current items (secrets masked unless --reveal)", usage: ITEMS_USAGE, run: itemsCommand },
  traffic: { summary: 'list the recorded exchanges (filtered), follow them live, export them as HAR or JSON', usage: TRAFFIC_USAGE, run: trafficCommand },
  job: { summary: 'queue, list and cancel provisioning jobs (write, read, restart, files, firmware)', usage: JOB_USAGE, run: jobCommand },
  profile: { summary: 'named item sets: set, show, apply (writes only what differs), plug & play', usage: PROFILE_USAGE, run: profileCommand },
  rollout: { summary: 'bulk jobs as rollouts: where each phone stands, retry the failed ones', usage: ROLLOUT_USAGE, run: rolloutCommand },
  contact: { summary: 'send contact-me so phones call back now (respects their contact gap)', usage: CONTACT_USAGE, run: contactCommand },
  bootstrap: { summary: 'move phones to Secure Mode (with or without PIN), print the PIN sheet', usage: BOOTSTRAP_USAGE, run: bootstrapCommand },
  ca: { summary: "show, import or export the site's certificate authority", usage: CA_USAGE, run: caCommand },
  phone: { summary: 'simulate one or many phones against a service', usage: 'localdls phone --help', run: (args, io) => phoneMain(args, io.out) },
};

export const VERSION = packageJson.version;

export async function main(argv: string[], out: Out = (l) => console.log(l), err: Out = (l) => console.error(l)): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-V' || command === 'version') {
    out(`localdls ${VERSION}`);
    return 0;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    out(topHelp());
    return command === undefined ? 2 : 0;
  }
  const entry = COMMANDS[command];
  if (!entry) {
    err(`localdls: unknown command "${command}"\n\n${topHelp()}`);
    return 2;
  }
  if (command !== 'phone' && (rest.includes('--help') || rest.includes('-h'))) {
    out(entry.usage);
    return 0;
  }
  try {
    return await entry.run(rest, { out, err });
  } catch (e) {
    if (e instanceof UsageError) {
      // The mistake and the command's synopsis, not its page of help (helper-77): the reason stays
      // on screen, and --help is one step away.
      err(`localdls ${command}: ${e.message}\n\n${synopsis(entry.usage)}\n(localdls ${command} --help for details)`);
      return 2;
    }
    if (e instanceof ApiArgumentError) {
      // A value the command's rules refuse (the same words as the UI's): the reason alone, with no
      // page of usage after it (helper-61); the command names the call ("addJob: …"), the CLI its own.
      err(`localdls ${command}: ${e.message.replace(/^[A-Za-z]+: /, '')}`);
      return 2;
    }
    err(`localdls ${command}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

/** The usage's first paragraph: the command's forms, without the options and examples after them. */
export function synopsis(usage: string): string {
  return usage.split(/\n\s*\n/)[0] ?? usage;
}

function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `LocalDLS ${VERSION}: a provisioning service for Unify OpenStage / OpenScape Desk Phone IP phones (WPI).

Usage: localdls <command> [options]   (localdls <command> --help for details; localdls --version)

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}`;
}
