import { useState } from 'react';

/**
 * Copies text to the clipboard and says so for two seconds (`copied`). Clipboard access can be denied
 * (permissions, an insecure origin): then nothing is said, and the caller leaves the text selectable instead.
 */
export function useClipboard(): { copied: boolean; copy: (text: string) => Promise<void> } {
  const [copied, setCopied] = useState(false);
  async function copy(text: string) {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      // Denied: the text stays on screen to select and copy by hand.
    }
  }
  return { copied, copy };
}
