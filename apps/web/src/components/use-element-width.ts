'use client';

import { useCallback, useState } from 'react';

/**
 * The content width of an element, kept current as it resizes (null until it is mounted and measured). Returns a
 * callback ref to put on the element.
 */
export function useElementWidth<T extends HTMLElement>(): [(element: T | null) => void, number | null] {
  const [width, setWidth] = useState<number | null>(null);
  const [observer] = useState(() =>
    typeof ResizeObserver === 'undefined'
      ? null
      : new ResizeObserver((entries) => {
          const box = entries[0]?.contentRect;
          if (box) setWidth(Math.floor(box.width));
        }),
  );
  const ref = useCallback(
    (element: T | null) => {
      observer?.disconnect();
      if (!element) return;
      const style = getComputedStyle(element);
      setWidth(Math.floor(element.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)));
      observer?.observe(element);
    },
    [observer],
  );
  return [ref, width];
}
