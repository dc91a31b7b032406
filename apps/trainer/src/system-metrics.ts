import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Resident memory of this process in MB. */
export const rssMb = () => process.memoryUsage.rss() / (1024 * 1024);

/**
 * GPU utilisation (%) and memory used (MB) of the slot's device, from nvidia-smi. null without a GPU
 * slot or without nvidia-smi (it is then not asked again).
 */
export class GpuProbe {
  private available: boolean;

  constructor(private readonly device: string | null) {
    this.available = device !== null;
  }

  async read(): Promise<{ util: number; memMb: number } | null> {
    if (!this.available || this.device === null) return null;
    try {
      const { stdout } = await execFileAsync(
        'nvidia-smi',
        ['--query-gpu=utilization.gpu,memory.used', '--format=csv,noheader,nounits', '-i', this.device.split(',')[0]!],
        { timeout: 5000 },
      );
      const [util, mem] = stdout
        .trim()
        .split(',')
        .map((s) => Number(s.trim()));
      if (!Number.isFinite(util) || !Number.isFinite(mem)) return null;
      return { util: util!, memMb: mem! };
    } catch {
      this.available = false;
      return null;
    }
  }
}
