import { sinkReport, type SinkReporter } from './sink-reports.js';
import type { SpillStore } from './spill.js';

export interface SpillAdopterOptions {
  spill: SpillStore;
  /** What the database says it is (see InsertTarget.identify); rejects while it cannot be reached. */
  identify?: () => Promise<string | undefined>;
  /** True once close() is past its drain deadline: no scan starts any more. */
  stopped(): boolean;
  /** Segments of dead writers were queued for replay. */
  onAdopted(): void;
  reporter: SinkReporter;
}

/**
 * Learns what the database says it is (once it answers), then looks for spill directories of
 * dead writers: those for this database and table are queued for replay; those for the same
 * table in another database are counted in stats() and reported once each. Until the database
 * has answered nothing is adopted: which directories are its own is not known yet (and rows
 * could not be replayed anyway).
 */
export class SpillAdopter {
  /** What the database said it is (undefined until known, or when it will not say). */
  identity: string | undefined;
  identityResolved = false;
  /** The scan under way, if any. */
  adopting: Promise<void> | undefined;
  private readonly reported = new Set<string>();

  constructor(private readonly o: SpillAdopterOptions) {}

  /** Starts a scan unless one is under way. Never throws; failures are reported. */
  adopt(): void {
    if (this.adopting || this.o.stopped()) return;
    this.adopting = this.scan()
      .catch((err: unknown) => this.o.reporter.report(sinkReport.scanFailed(err)))
      .finally(() => {
        this.adopting = undefined;
      });
  }

  private async scan(): Promise<void> {
    if (!this.identityResolved) {
      try {
        this.identity = await this.o.identify?.();
      } catch {
        // Unreachable: the write path reports that. Asked again on recovery and every adoptIntervalMs.
        return;
      }
      this.identityResolved = true;
      this.o.spill.setIdentity(this.identity);
    }
    if ((await this.o.spill.adoptStale()) > 0) this.o.onAdopted();
    for (const f of this.o.spill.foreignDirs) {
      if (this.reported.has(f.name)) continue;
      this.reported.add(f.name);
      this.o.reporter.report(sinkReport.foreignSpill(f));
    }
  }
}
