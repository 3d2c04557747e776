/**
 * @module cli/monitor/components/Screen
 * Draws a screen of lines (cli/monitor/views/frame) with a theme: one `<Text>` per line, one nested
 * `<Text>` per span. Lines come exactly as wide as the terminal, so nothing wraps.
 */
import { Box, Text } from 'ink';

import type { Line } from '../layout.ts';
import type { Theme } from '../theme.ts';

export function Screen({ lines, theme }: { lines: readonly Line[]; theme: Theme }) {
  return (
    <Box flexDirection="column">
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate-end">
          {l.map((span, j) => (
            <Text key={j} {...theme[span.role]}>
              {span.text}
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
}
