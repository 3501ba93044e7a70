import { createContext, useContext } from 'react';
import type { ServiceStatus } from '../../../shared/api';

/** The service's status as last reported (null until the first answer), for views deep in the tree. */
export const StatusContext = createContext<ServiceStatus | null>(null);

export function useServiceStatus(): ServiceStatus | null {
  return useContext(StatusContext);
}
