import React from 'react';
import { Tooltip } from '@material-ui/core';

/**
 * Says why a control is disabled. A disabled button gets no mouse events, so the tooltip sits on
 * a wrapper; with no reason the child renders alone.
 */
export function ReasonTooltip({ reason, children }: { reason?: string; children: React.ReactElement }) {
  if (!reason) return children;
  return (
    <Tooltip title={reason}>
      <span data-reason={reason} style={{ display: 'inline-block' }}>
        {children}
      </span>
    </Tooltip>
  );
}
