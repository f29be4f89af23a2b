/**
 * The banners the PSF runbook's programs showed before each irreversible
 * part, word for word: the operator, the witnesses and the stream see the
 * same text the 2020 ceremony showed, and RUNBOOK.md documents each under
 * its step as `{output}`, which the rehearsal compares.
 */
import type { RunbookContext } from '../lib/runbook/api.ts';
import { StepError } from './errors.ts';

/** Before a YubiHSM 2 is reset ("Provisioning the YubiHSM 2", yubihsm.warning). */
export const YUBIHSM_DANGER = `!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!!                    DANGER!                    !!!
!!!                                               !!!
!!!   This program will reset and reprovision     !!!
!!!   your YubiHSM 2 for TUF purposes.            !!!
!!!                                               !!!
!!!   Make sure to read the runbook before        !!!
!!!   using this program. Failure to do so        !!!
!!!   will cause PERMANENT key loss.              !!!
!!!                                               !!!
!!!   Hit "y" (case insensitive) to continue.     !!!
!!!                                               !!!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
`;

/** Before the new authentication key is made (yubihsm.authkey-warning). */
export const AUTH_KEY_NOTICE = `#####################################################
###                                               ###
###   We're going to create a new "auth key"      ###
###   on your YubiHSM.                            ###
###                                               ###
###   This "auth key" will                        ###
###   have a password that you MUST remember      ###
###   OR store securely and will protect the      ###
###   TUF keys that are going to be created.      ###
###                                               ###
###   Hit "y" (case insensitive) to continue.     ###
###                                               ###
#####################################################
`;

/** Before a Nitrokey HSM is re-initialized (nitrokey.warning). */
export const NITROKEY_DANGER = `!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!!!                    DANGER!                    !!!
!!!                                               !!!
!!!   This program will reset and reprovision     !!!
!!!   your Nitrokey HSM for TUF purposes.         !!!
!!!                                               !!!
!!!   Make sure to read the runbook before        !!!
!!!   using this program. Failure to do so        !!!
!!!   will cause PERMANENT key loss and MAY       !!!
!!!   leave your HSM in an unusable state.        !!!
!!!                                               !!!
!!!   Hit "y" (case insensitive) to continue.     !!!
!!!                                               !!!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
`;

/** The question each banner ends with. */
export const CONTINUE = 'Hit "y" (case insensitive) to continue.';

/** What stopping at a banner leaves behind, for the error. */
export const NOTHING_DONE = 'nothing was done to the device';

/**
 * Shows a banner and asks for "y" (the prompt `continue`); anything else
 * stops the step with STEP_DECLINED, saying what state the device is left in.
 */
export async function showBanner(ctx: RunbookContext<object>, banner: string, leftAs: string = NOTHING_DONE): Promise<void> {
  ctx.say(banner);
  if (!(await ctx.confirm(CONTINUE, { name: 'continue' }))) {
    throw new StepError('STEP_DECLINED', `${ctx.hsm.id}: the operator did not continue past the warning; ${leftAs}`);
  }
}
