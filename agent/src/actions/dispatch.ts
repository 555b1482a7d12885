/** Runs one command: every command type has exactly one action (exhaustive by command_type). */
import type { Command } from '../../../src/protocol'
import { runCleanup } from './cleanup'
import { fail, type ActionContext, type ActionResult } from './context'
import { runRegisterTargets } from './interruption-drain'
import { launchReplica, runPromoteReplica, runTerminateReplica } from './replica'
import { runSwitch } from './switch'
import { runTerminateInstance } from './terminate'
import { runUninstall } from './uninstall'

export async function runCommand(ctx: ActionContext, command: Command): Promise<ActionResult> {
  switch (command.command_type) {
    case 'switch':
      return runSwitch(ctx, command)
    case 'create_replica':
      return launchReplica(ctx, {
        replicaId: command.replica_id,
        poolId: command.target_pool_id,
        az: null,
        replicaType: 'manual',
        mode: command.target_mode,
      })
    case 'promote_replica':
      return runPromoteReplica(ctx, command)
    case 'terminate_replica':
      return runTerminateReplica(ctx, command)
    case 'terminate_instance':
      return runTerminateInstance(ctx, command)
    case 'cleanup':
      return runCleanup(ctx)
    case 'uninstall':
      return runUninstall(ctx)
    case 'register_targets':
      return runRegisterTargets(ctx, command)
    default: {
      const never: never = command
      return fail('Unsupported', `unknown command ${(never as { command_type: string }).command_type}`)
    }
  }
}
