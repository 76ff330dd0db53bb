// The order saga as a choreography (the lessons' example): the plan the service processes and the
// real-process test share.
import type { ChoreographyPlan } from '../../saga/choreography.js';

export const ORDER_CHOREOGRAPHY: ChoreographyPlan = { name: 'order', steps: ['order', 'payment', 'inventory', 'shipping'] };
