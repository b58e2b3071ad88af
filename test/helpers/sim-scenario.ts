/** A small scenario for the simulator's unit tests: two personas, an email and an SMS, drift halfway. */
export const MINI = `
name: mini
config: pathwise.yaml
seed: 3
trigger: { event: Signed Up }
actions:
  mail: { channel: email, category: browsed }
  text: { channel: sms, discount: 0.2, cost: 0.05 }
staticJourney: [mail, text]
response: { jitter: 0 }
population:
  - name: a
    share: 3
    traits: { device: { mobile: 1 } }
    baseRate: 0.1
    channels: { email: 0.5, sms: 0.2 }
    interests: { shoes: 0.4 }
    priceSensitivity: 0.5
    activeHours: [8, 20]
    fatigue: 0.25
    orderValue: 100
  - name: b
    share: 1
    traits: { device: { desktop: 1 } }
    baseRate: 0.3
    channels: { email: 0.1, sms: 0.9 }
    interests: { bags: 0.6 }
    priceSensitivity: 0
    activeHours: [20, 2]
    fatigue: 0
    orderValue: 50
drift:
  - { at: 0.5, persona: a, set: { channels: { email: 0.05 } } }
`;
