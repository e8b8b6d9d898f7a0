// SPDX-License-Identifier: MIT
// Commands about the daemon itself: shutdown, reload, version, and open (switch server).
import { Faults } from '../../rpc/faults.js';
import { Exit, type Controller } from '../controller.js';
import { Fault, SocketError, type SiteName } from '../errors.js';
import { pyStr, pyStrip, urlScheme } from '../py.js';
import type { Command } from './command.js';
import { status } from './status.js';

/** In the shell (or with -i) both ask first; anything not starting with y/Y is no. */
async function confirm(ctl: Controller, question: string, site: SiteName): Promise<boolean> {
  if (!ctl.options.interactive) return true;
  const yesno = await ctl.input.readLine(question, site);
  return yesno.toLowerCase().startsWith('y');
}

function rejectArgs(ctl: Controller, name: string, arg: string, help: (ctl: Controller) => void): boolean {
  if (!arg) return false;
  ctl.output(`Error: ${name} accepts no arguments`);
  ctl.exitstatus = Exit.GENERIC;
  help(ctl);
  return true;
}

export const shutdown: Command = {
  async run(ctl, arg) {
    if (rejectArgs(ctl, 'shutdown', arg, shutdown.help)) return;
    if (!(await confirm(ctl, 'Really shut the remote supervisord process down y/N? ', 'shutdownConfirm'))) return;
    const sup = ctl.getSupervisor();
    try {
      await sup.call('shutdown');
    } catch (e) {
      if (e instanceof Fault) {
        // Already shutting down leaves the exit status alone in 4.2.5.
        if (e.faultCode === Faults.SHUTDOWN_STATE) return ctl.output('ERROR: already shutting down');
        ctl.exitstatus = Exit.GENERIC;
        throw e;
      }
      if (e instanceof SocketError) {
        ctl.exitstatus = Exit.GENERIC;
        const url = ctl.options.serverurl;
        if (e.errno === 'ECONNREFUSED') return ctl.output(`ERROR: ${url} refused connection (already shut down?)`);
        if (e.errno === 'ENOENT') return ctl.output(`ERROR: ${url} no such file (already shut down?)`);
      }
      throw e;
    }
    ctl.output('Shut down');
  },
  help(ctl) {
    ctl.output('shutdown \tShut the remote supervisord down.');
  },
};

export const reload: Command = {
  async run(ctl, arg) {
    if (rejectArgs(ctl, 'reload', arg, reload.help)) return;
    if (!(await confirm(ctl, 'Really restart the remote supervisord process y/N? ', 'reloadConfirm'))) return;
    const sup = ctl.getSupervisor();
    try {
      await sup.call('restart');
    } catch (e) {
      if (!(e instanceof Fault)) throw e;
      ctl.exitstatus = Exit.GENERIC;
      if (e.faultCode !== Faults.SHUTDOWN_STATE) throw e;
      ctl.output('ERROR: already shutting down');
      return;
    }
    ctl.output('Restarted supervisord');
  },
  help(ctl) {
    ctl.output('reload \t\tRestart the remote supervisord.');
  },
};

export const version: Command = {
  async run(ctl, arg) {
    if (rejectArgs(ctl, 'version', arg, version.help)) return;
    if (!(await ctl.upcheck())) return;
    ctl.output(pyStr(await ctl.getSupervisor().call('getSupervisorVersion')));
  },
  help(ctl) {
    ctl.output('version\t\t\tShow the version of the remote supervisord process');
  },
};

export const open: Command = {
  async run(ctl, arg) {
    const url = pyStrip(arg);
    const scheme = urlScheme(url);
    if (scheme !== 'unix' && scheme !== 'http') {
      ctl.output('ERROR: url must be http:// or unix://');
      ctl.exitstatus = Exit.GENERIC;
      return;
    }
    ctl.options.serverurl = url;
    // The status of the new server is shown, but does not decide the exit status.
    const old = ctl.exitstatus;
    await status.run(ctl, '');
    ctl.exitstatus = old;
  },
  help(ctl) {
    ctl.output('open <url>\tConnect to a remote supervisord process.');
    ctl.output('\t\t(for UNIX domain socket, use unix:///socket/path)');
  },
};
