/**
 * The rehearsal's workbench: one simulated device per inventory entry, in
 * its bag until its section of the runbook takes it out. A YubiHSM 2 is the
 * simulator (lib/yubihsm/simulator/); a Nitrokey HSM is the simulated
 * SmartCard-HSM, or a SoftHSM2 token when a PKCS#11 module is given.
 *
 * The runbook says "take YubiHSM2-1 out of its bag and GO TO Provisioning
 * the YubiHSM 2"; the bench plugs that device in when the section call for it
 * begins and unplugs it when the call ends, so the steps meet the rules a
 * real ceremony has: exactly one device plugged in, the one written down.
 */
import { randomInt } from 'node:crypto';
import { NITROKEY } from '../../lib/ceremony.ts';
import { NITROKEY_HSM, SOFTHSM2, type ExpectedToken } from '../../lib/pkcs11/identity.ts';
import { FACTORY_USER_PIN, SimulatedSmartCardHsm } from '../../lib/pkcs11/simulator/smartcard-hsm.ts';
import { openSimulatedToken, simulatedTokenAttestation } from '../../lib/pkcs11/simulator/token.ts';
import type { AttestationReader } from '../../lib/pkcs11/attestation.ts';
import type { SoftHsmShelf } from '../../lib/pkcs11/softhsm.ts';
import type { Token } from '../../lib/pkcs11/token.ts';
import type { RunEvent, RunObserver } from '../../lib/runbook/events.ts';
import type { HsmEntry, Inventory } from '../../lib/runbook/inventory-types.ts';
import { YubiHsmClient } from '../../lib/yubihsm/client.ts';
import { YubiHsmError } from '../../lib/yubihsm/errors.ts';
import { SimulatedYubiHsm } from '../../lib/yubihsm/simulator/index.ts';
import { InProcessTransport } from '../../lib/yubihsm/transports/in-process.ts';
import { settle } from '../../lib/settle.ts';
import type { Hardware } from '../hardware.ts';

export interface BenchOptions {
  readonly inventory: Inventory;
  /**
   * A SoftHSM2 module: the Nitrokey HSMs are SoftHSM2 tokens kept under
   * `softhsmDir` (its softhsm2.conf), one per device, instead of simulated
   * SmartCard-HSMs.
   */
  readonly softhsm?: { readonly module: string; readonly dir: string };
  /** How long a simulated YubiHSM 2 stays off the bus after a reset; default BENCH_REBOOT_MS. */
  readonly rebootMs?: number;
}

/**
 * A real YubiHSM 2 takes seconds to come back after a reset; the bench's
 * take 20 ms: long enough that a step which did not wait for the device
 * fails, short enough for a rehearsal in CI.
 */
export const BENCH_REBOOT_MS = 20;

/** A device on the bench: a simulated YubiHSM 2, or a Nitrokey HSM (simulated or SoftHSM2). */
type Device =
  | { readonly kind: 'yubihsm2'; readonly entry: HsmEntry; readonly device: SimulatedYubiHsm }
  | { readonly kind: 'nitrokey-hsm'; readonly entry: HsmEntry; readonly device: SimulatedSmartCardHsm | undefined; readonly serial: string };

export class Bench implements Hardware {
  readonly kind: Hardware['kind'];
  readonly nitrokeyIdentity: ExpectedToken;
  readonly #devices = new Map<string, Device>();
  readonly #plugged = new Set<string>();
  readonly #shelf: SoftHsmShelf | undefined;
  readonly #module: string | undefined;

  private constructor(options: BenchOptions, shelf: SoftHsmShelf | undefined) {
    this.#shelf = shelf;
    this.#module = options.softhsm?.module;
    this.kind = shelf ? 'softhsm2' : 'simulated';
    // The simulated SmartCard-HSM reports itself as OpenSC shows a Nitrokey HSM.
    this.nitrokeyIdentity = shelf ? SOFTHSM2 : NITROKEY_HSM;
  }

  /** A bench with a factory-fresh device for every inventory entry. */
  static async create(options: BenchOptions): Promise<Bench> {
    let shelf: SoftHsmShelf | undefined;
    if (options.softhsm) {
      const { SoftHsmShelf } = await import('../../lib/pkcs11/softhsm.ts');
      shelf = new SoftHsmShelf(options.softhsm.dir, { module: options.softhsm.module, soPin: NITROKEY.factorySoPin, userPin: FACTORY_USER_PIN });
    }
    const bench = new Bench(options, shelf);
    const serials = new Set<number>();
    // The YubiHSM 2 devices' RSA attestation keys are made at the same time, on the thread pool.
    const yubihsms = new Map<string, Promise<SimulatedYubiHsm>>();
    for (const entry of options.inventory.hsms) {
      if (entry.kind !== 'yubihsm2') continue;
      // Serials like the PSF's devices' (0013200460): eight digits, distinct on the bench.
      let serial = entry.serial === undefined ? randomInt(10_000_000, 100_000_000) : Number.parseInt(entry.serial, 10);
      while (serials.has(serial)) serial = randomInt(10_000_000, 100_000_000);
      serials.add(serial);
      yubihsms.set(entry.id, SimulatedYubiHsm.create({ serial, rebootMs: options.rebootMs ?? BENCH_REBOOT_MS }));
    }
    await Promise.allSettled(yubihsms.values());
    for (const entry of options.inventory.hsms) {
      const yubihsm = yubihsms.get(entry.id);
      if (yubihsm) {
        bench.#devices.set(entry.id, { kind: 'yubihsm2', entry, device: await yubihsm });
      } else if (shelf) {
        const { serial } = await shelf.create(entry.id);
        bench.#devices.set(entry.id, { kind: 'nitrokey-hsm', entry, device: undefined, serial });
      } else {
        // Each with a Device Authentication identity of its own: the bench's Nitrokey HSMs attest their keys.
        const device = await SimulatedSmartCardHsm.create(entry.serial === undefined ? {} : { serial: entry.serial });
        bench.#devices.set(entry.id, { kind: 'nitrokey-hsm', entry, device, serial: device.serial });
      }
    }
    return bench;
  }

  /** The SoftHSM2 configuration that opens every token of the bench, when it has SoftHSM2 tokens. */
  get softhsmConf(): string | undefined {
    return this.#shelf?.conf;
  }

  /** What is printed on the device's casing (YubiHSM 2), or what the device reports as its serial (Nitrokey HSM). */
  printedSerial(hsm: string): string {
    const d = this.#device(hsm);
    return d.kind === 'yubihsm2' ? String(d.device.serial) : d.serial;
  }

  /** The SO-PIN a device has now: a new bench's are the factory value. */
  currentSoPin(hsm: string): string {
    this.#device(hsm);
    return NITROKEY.factorySoPin;
  }

  /** The simulated YubiHSM 2 of an inventory entry, for tests that need to reach it (fault hooks). */
  yubihsm(hsm: string): SimulatedYubiHsm {
    const d = this.#device(hsm);
    if (d.kind !== 'yubihsm2') throw new Error(`${hsm} is not a YubiHSM 2`);
    return d.device;
  }

  /** The simulated SmartCard-HSM of an inventory entry, when the bench has them. */
  smartCardHsm(hsm: string): SimulatedSmartCardHsm {
    const d = this.#device(hsm);
    if (d.kind !== 'nitrokey-hsm' || !d.device) throw new Error(`${hsm} is not a simulated SmartCard-HSM`);
    return d.device;
  }

  /** Takes a device out of its bag and plugs it in. */
  async plugIn(hsm: string): Promise<void> {
    const d = this.#device(hsm);
    if (this.#plugged.has(hsm)) return;
    this.#plugged.add(hsm);
    if (d.kind === 'nitrokey-hsm') await this.#shelf?.insert(hsm);
  }

  /** Unplugs a device. */
  async unplug(hsm: string): Promise<void> {
    if (!this.#plugged.delete(hsm)) return;
    if (this.#device(hsm).kind === 'nitrokey-hsm') await this.#shelf?.remove(hsm);
  }

  /** Puts every SoftHSM2 token where the bench's softhsm2.conf finds it, for an auditor after the rehearsal. */
  async laidOut(): Promise<void> {
    await this.#shelf?.insertAll();
  }

  /** Plugs the device of each section call in as the call begins, and unplugs it as it ends. */
  get observer(): RunObserver {
    const calls = new Map<number, string>();
    return {
      onEvent: async (event: RunEvent) => {
        if (event.type === 'section.entered' && event.params.hsm !== undefined && this.#devices.has(event.params.hsm)) {
          calls.set(event.call, event.params.hsm);
          await this.plugIn(event.params.hsm);
        } else if (event.type === 'section.left') {
          const hsm = calls.get(event.call);
          if (hsm !== undefined) await this.unplug(hsm);
        }
      },
    };
  }

  openYubiHsm(): Promise<YubiHsmClient> {
    return settle(() => this.#openYubiHsm());
  }

  #openYubiHsm(): YubiHsmClient {
    const plugged = [...this.#plugged].map((id) => this.#device(id)).filter((d) => d.kind === 'yubihsm2');
    const [only, ...more] = plugged;
    if (!only) {
      const others = [...this.#plugged].join(', ');
      throw new YubiHsmError('YUBIHSM_USB_NO_DEVICE', `no YubiHSM 2 is plugged into the simulated bench${others ? ` (plugged in: ${others})` : ''}`);
    }
    if (more.length > 0) {
      throw new YubiHsmError('YUBIHSM_USB_SEVERAL_DEVICES', `${plugged.length} YubiHSM 2 devices are plugged into the simulated bench: ${plugged.map((d) => d.entry.id).join(', ')}`);
    }
    return new YubiHsmClient(new InProcessTransport(only.device), { device: `simulated YubiHSM 2 serial ${only.device.serial}` });
  }

  async openNitrokey(): Promise<Token> {
    if (this.#shelf && this.#module !== undefined) {
      const { openPkcs11Token } = await import('../../lib/pkcs11/driver.ts');
      this.#shelf.use();
      return openPkcs11Token({ module: this.#module });
    }
    const plugged = [...this.#plugged].map((id) => this.#device(id)).flatMap((d) => (d.kind === 'nitrokey-hsm' && d.device ? [d.device] : []));
    return openSimulatedToken(plugged);
  }

  /** The simulated SmartCard-HSM behind `token` reads its own attestations; a SoftHSM2 token has none. */
  nitrokeyAttestation(token: Token): AttestationReader | undefined {
    return this.#shelf ? undefined : simulatedTokenAttestation(token);
  }

  #device(hsm: string): Device {
    const d = this.#devices.get(hsm);
    if (!d) throw new Error(`the bench has no device ${hsm}`);
    return d;
  }
}
